# Every test runs by default. Slower groups are tagged to run or skip alone:
#   mix test --only fault    the real bootstrap.sh against a scripted Runtime API
#   mix test --only e2e      the real bootstrap.sh against cargo-lambda's emulator
#   mix test --exclude fault --exclude e2e    in-VM unit tests only
# Both groups build test/fixtures/handlers on first use (test/support/fixture.ex).
ExUnit.start()
