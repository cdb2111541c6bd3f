# Every test runs by default. Tests sit by area (ARCHITECTURE.md, "Tests"):
#   mix test test/runtime/streaming    one area
# Slower groups are also tagged, to run or skip alone:
#   mix test --only fault          the real bootstrap.sh against the FaultApi
#   mix test --only recording_api  the real bootstrap.sh against the RecordingApi
#   mix test --only e2e            the real bootstrap.sh against cargo-lambda's emulator
#   mix test --exclude fault --exclude recording_api --exclude e2e
# They build the fixture projects (test/fixtures/handlers, .../features) on
# first use (test/support/runtime/fixture.ex).

# Tests call :ssl/:public_key (TLS tests, :httpc) and jiffy (the JSON peer)
# directly. On Elixir 1.15+ Mix leaves OTP applications outside the
# project's dependencies off the code path; put them back before the test
# files compile. jiffy is optional here: its test says how to install it.
LambdaRuntime.OTPApps.ensure_available!([:inets, :ssl])
LambdaRuntime.OTPApps.ensure_available([:jiffy])

ExUnit.start()
