# Writes the configuration module of config/ (as mix lambda.package builds
# it) to the path given: mix run --no-start bench/runtime_config/build_config.exs OUT
[out] = System.argv()
dir = Path.join(__DIR__, "config")

{:ok, beam} =
  LambdaRuntime.Tools.Package.AppConfig.build(
    config_path: Path.join(dir, "config.exs"),
    runtime_path: Path.join(dir, "runtime.exs"),
    env: :prod,
    target: :host
  )

File.write!(out, beam)
