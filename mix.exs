# The NIF build step and the development boot script are Mix compilers that
# must exist before this project compiles, so they live outside lib/ and
# are loaded here.
Code.require_file("mix/compile.lambda_nif.ex", __DIR__)
Code.require_file("mix/compile.lambda_boot.ex", __DIR__)

defmodule LambdaRuntime.MixProject do
  use Mix.Project

  @version "0.1.0"
  @source_url "https://github.com/lambda-runtime-ex/lambda_runtime"

  def project do
    [
      app: :lambda_runtime,
      version: @version,
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      compilers: [:lambda_nif] ++ Mix.compilers() ++ [:lambda_boot],
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: [],
      # Deploy-only code (lib/lambda_runtime/aws, the lambda.* deploy tasks)
      # uses these OTP applications on the developer's machine; they are
      # started on demand there, never at boot inside Lambda.
      xref: [exclude: [:crypto, :public_key, :ssl, :httpc, :inets]],
      description: description(),
      package: package(),
      source_url: @source_url,
      docs: [main: "readme", extras: ["README.md", "ARCHITECTURE.md"]]
    ]
  end

  def application do
    [
      mod: {LambdaRuntime.Application, []},
      extra_applications: [:logger | extra_applications(Mix.env())]
    ]
  end

  # Tests talk HTTP to emulators with :httpc.
  defp extra_applications(:test), do: [:inets]
  defp extra_applications(_), do: []

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp description do
    "An AWS Lambda custom runtime for Elixir: a Rust NIF speaks the Runtime API " <>
      "and JSON, a lean layer holds ERTS, and a function deploys as its own beams."
  end

  defp package do
    [
      licenses: ["MIT"],
      links: %{"GitHub" => @source_url},
      # native/ holds the crate and native/precompiled/ its libraries for
      # x86_64 and aarch64 Linux (see mix/precompiled_nif.ex); priv/native
      # (the installed NIF) is a build output and stays out.
      files: ~w(lib mix native priv/samples rel bootstrap.sh Cargo.toml Cargo.lock mix.exs
                README.md ARCHITECTURE.md LICENSE)
    ]
  end
end
