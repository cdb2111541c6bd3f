# A typical small config.exs: read when the package is built.
import Config

config :bench_app,
  greeting: "hello",
  repo: [pool_size: 2, timeout: 15_000]

config :logger, level: :info
