defmodule Mix.Tasks.Lambda.Layer do
  @shortdoc "Builds the lambda_runtime Lambda layer zip (ERTS, OTP, Elixir, runtime)"
  @moduledoc """
  Builds one Lambda layer zip whose root becomes `/opt`: `bootstrap`, ERTS,
  the OTP and Elixir applications of this machine's installation (kernel,
  stdlib, compiler, elixir, logger, crypto, public_key, asn1, ssl, inets),
  the `lambda_runtime` application with its NIF, the shared libraries they
  need beyond glibc (in `shlib/`), and `bin/no_dot_erlang.boot`. Beams are
  stripped of debug info and docs.

  Works in the lambda_runtime repository and in any project that depends
  on `:lambda_runtime`; it compiles the project first.

      mix lambda.layer
      mix lambda.layer --output dist/layer.zip
      mix lambda.layer --glibc 2.26                 # for provided.al2
      mix lambda.layer --system-lib libcrypto.so.3  # trust the target's copy

  Before zipping, every ELF file in the layer is checked (an ELF reader in
  Elixir, no binutils needed): the task fails with a table when a file needs
  a newer glibc than the target's or a library that is neither bundled nor
  part of glibc. The layer is built for this machine's architecture.

  ## Options

    * `--output PATH` - where to write the zip (default:
      `_build/lambda/layer.zip`, under `MIX_BUILD_ROOT` when set).
    * `--glibc VERSION` - the target's glibc (default `2.34`, the glibc of
      `provided.al2023`; `2.26` is `provided.al2`).
    * `--system-lib SONAME` - a library the target provides, so it is
      neither bundled nor reported missing; may be given more than once.
  """
  use Mix.Task

  alias LambdaRuntime.Layer.{Builder, ElfCheck}

  @switches [output: :string, glibc: :string, system_lib: :keep]

  @impl Mix.Task
  def run(args) do
    {opts, rest, invalid} = OptionParser.parse(args, strict: @switches)

    cond do
      invalid != [] ->
        Mix.raise(
          "mix lambda.layer: unknown or invalid option #{elem(hd(invalid), 0)}; " <>
            "run `mix help lambda.layer` for the options"
        )

      rest != [] ->
        Mix.raise(
          "mix lambda.layer takes no arguments, got #{inspect(rest)}; " <>
            "use --output PATH to choose where the zip goes"
        )

      true ->
        :ok
    end

    glibc =
      case ElfCheck.parse_version(Keyword.get(opts, :glibc, "2.34")) do
        {:ok, version} ->
          version

        :error ->
          Mix.raise("--glibc expects a version such as 2.34 or 2.26, got #{opts[:glibc]}")
      end

    Mix.Task.run("compile", [])

    build_root = Path.dirname(Mix.Project.build_path())
    output = Path.expand(opts[:output] || Path.join(build_root, "lambda/layer.zip"))

    result =
      Builder.build(
        runtime_dir: Path.join(Mix.Project.build_path(), "lib/lambda_runtime"),
        bootstrap: bootstrap_path(),
        stage: Path.join(build_root, "lambda/layer"),
        output: output,
        glibc: glibc,
        system_libs: Keyword.get_values(opts, :system_lib)
      )

    case result do
      {:ok, _} -> :ok
      {:error, message} -> Mix.raise(message)
    end
  end

  # bootstrap.sh ships with lambda_runtime's sources: the project itself,
  # or the dependency's checkout.
  defp bootstrap_path do
    root =
      if Mix.Project.config()[:app] == :lambda_runtime do
        File.cwd!()
      else
        Mix.Project.deps_paths()[:lambda_runtime] ||
          Mix.raise("this project does not depend on :lambda_runtime")
      end

    path = Path.join(root, "bootstrap.sh")
    File.regular?(path) || Mix.raise("#{path} is missing from the lambda_runtime sources")
    path
  end
end
