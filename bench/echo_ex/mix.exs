defmodule Echo.MixProject do
  use Mix.Project

  # The benchmark's function: lambda_runtime plus a one-line echo handler.
  # Build it with its own build root (bench/run.sh does):
  #   cd bench/echo_ex && MIX_BUILD_ROOT=/tmp/build-bench-echo mix compile
  # and run bootstrap.sh with LAMBDA_TASK_ROOT=/tmp/build-bench-echo/dev.
  # LAMBDA_RUNTIME_SRC points at the runtime's source: bench/run.sh uses a
  # `git archive` of a commit, so that other work in progress in this
  # checkout is not what gets measured.
  def project do
    [
      app: :echo,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: [{:lambda_runtime, path: System.get_env("LAMBDA_RUNTIME_SRC", "../..")}]
    ]
  end

  def application, do: [extra_applications: [:logger]]
end
