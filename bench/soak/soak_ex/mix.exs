defmodule Soak.MixProject do
  use Mix.Project

  # The soak's function (bench/soak/run.sh): lambda_runtime plus a handler
  # that dispatches on the event's "kind". Built with its own build root:
  #   cd bench/soak/soak_ex && MIX_BUILD_ROOT=/tmp/build-bench-soak mix compile
  # and run by bootstrap.sh with LAMBDA_TASK_ROOT=/tmp/build-bench-soak/dev.
  # LAMBDA_RUNTIME_SRC points at the runtime's source (run.sh: a `git
  # archive` of a commit, as bench/run.sh does for bench/echo_ex).
  def project do
    [
      app: :soak,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: [{:lambda_runtime, path: System.get_env("LAMBDA_RUNTIME_SRC", "../../..")}]
    ]
  end

  def application, do: [extra_applications: [:logger]]
end
