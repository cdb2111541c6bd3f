import Config

# In a release nothing calls LambdaRuntime.Bootstrap.main/0, so the
# application starts the runtime itself.
config :lambda_runtime, start_runtime: true
