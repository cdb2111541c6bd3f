defmodule ReleaseHello.MixProject do
  # A standard `mix release` of examples/hello on lambda_runtime: candidate
  # (d) of the cold-start benchmark (bench/coldstart/RESULTS.md).
  use Mix.Project

  def project do
    [
      app: :release_hello,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: [{:hello, path: "../../../examples/hello"}],
      releases: [release_hello: [include_executables_for: [:unix]]]
    ]
  end

  def application, do: [extra_applications: [:logger]]
end
