# Every test runs by default. Slower groups are tagged to run or skip alone:
#   mix test --only fault    the real bootstrap.sh against a scripted Runtime API
#   mix test --only e2e      the real bootstrap.sh against cargo-lambda's emulator
#   mix test --exclude fault --exclude e2e    in-VM unit tests only
# Both groups build test/fixtures/handlers on first use (test/support/fixture.ex).

# Tests call :ssl/:public_key (TLS tests, :httpc) and jiffy (the JSON peer)
# directly. On Elixir 1.15+ Mix leaves OTP applications outside the
# project's dependencies off the code path; put them back before the test
# files compile. jiffy is optional here: its test says how to install it.
LambdaRuntime.OTPApps.ensure_available!([:inets, :ssl])
LambdaRuntime.OTPApps.ensure_available([:jiffy])

ExUnit.start()
