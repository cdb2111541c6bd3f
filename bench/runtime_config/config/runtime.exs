# A typical small runtime.exs: table names and flags from the function's
# environment, evaluated at cold start.
import Config

config :bench_app,
  table: System.get_env("TABLE", "orders"),
  region: System.fetch_env!("AWS_REGION")

if config_env() == :prod do
  config :bench_app, :repo, url: System.get_env("DATABASE_URL", "postgres://localhost/app")

  config :bench_app, :flags,
    beta: System.get_env("BETA") == "true",
    limit: String.to_integer(System.get_env("LIMIT", "100"))

  config :logger, level: String.to_existing_atom(System.get_env("LOG_LEVEL", "info"))
end
