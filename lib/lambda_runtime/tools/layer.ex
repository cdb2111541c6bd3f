defmodule LambdaRuntime.Tools.Layer do
  @moduledoc """
  A layer build as `mix lambda.layer` runs it: `options/1` checks the
  task's options, `build/2` gets the native code
  (`LambdaRuntime.Tools.Layer.Natives`: built with zig for the target, or
  this machine's) and writes the zip (`LambdaRuntime.Tools.Layer.Builder`)
  for the current, compiled Mix project.
  """

  alias LambdaRuntime.Tools.Layer.{Builder, ElfCheck, Natives, Platform, Target}

  # provided.al2023's glibc: the newest a layer may need.
  @target_glibc {2, 34}

  @type options :: %{
          arch: Target.arch(),
          erts: :zig | :host,
          glibc: {non_neg_integer(), non_neg_integer()},
          flavor: :emu | :jit
        }

  @doc """
  Checks the options as given on the command line (strings: `:arch`,
  `:erts`, `:glibc`, `:flavor`; and `:force`) and resolves their defaults:
  `x86_64`, ERTS built with zig (`host` only for this machine's
  architecture), glibc 2.31 for zig (at most 2.34 unless `force`), the
  interpreter for zig and the JIT for `host`.
  """
  @spec options(keyword()) :: {:ok, options()} | {:error, String.t()}
  def options(opts) do
    with {:ok, arch} <- arch(opts[:arch] || "x86_64"),
         {:ok, erts} <- erts(opts[:erts] || "zig", arch),
         {:ok, glibc} <- glibc(opts[:glibc], erts, opts[:force]),
         {:ok, flavor} <- flavor(opts[:flavor] || default_flavor(erts), erts) do
      {:ok, %{arch: arch, erts: erts, glibc: glibc, flavor: flavor}}
    end
  end

  @doc """
  Builds the layer of the current Mix project (compiled first) with
  `options` from `options/1`. `opts`: `:output` (the zip; default
  `_build/lambda/layer-ARCH.zip`), `:otp_source`, `:bundle_libcrypto`,
  `:system_libs`, `:force`. Returns `{:ok, result}` (see `Builder.build/1`)
  or `{:error, message}`.
  """
  @spec build(options(), keyword()) :: {:ok, map()} | {:error, String.t()}
  def build(options, opts) do
    with {:ok, root} <- runtime_root() do
      build_root = Path.dirname(Mix.Project.build_path())
      runtime_dir = Path.join(Mix.Project.build_path(), "lib/lambda_runtime")
      name = "layer-#{options.arch}"
      output = Path.expand(opts[:output] || Path.join(build_root, "lambda/#{name}.zip"))

      Builder.build(
        natives: natives(options, opts, root, build_root, runtime_dir),
        runtime_dir: runtime_dir,
        bootstrap: Path.join(root, "bootstrap.sh"),
        stage: Path.join(build_root, "lambda/stage-#{Path.basename(output, ".zip")}"),
        output: output,
        glibc: options.glibc,
        system_libs: Keyword.get(opts, :system_libs, []),
        force: Keyword.get(opts, :force, false)
      )
    end
  end

  defp natives(%{erts: :zig} = options, opts, root, build_root, _runtime_dir) do
    Mix.shell().info([:cyan, "==> ", :reset, "Native code for #{options.arch}, glibc <= 2.31"])

    Natives.portable!(%Platform{arch: options.arch, glibc: options.glibc},
      otp_source: opts[:otp_source],
      flavor: options.flavor,
      bundle_libcrypto: Keyword.get(opts, :bundle_libcrypto, false),
      runtime_root: root,
      nif_target_dir: Path.join(build_root, "lambda/nif")
    )
  end

  defp natives(%{erts: :host}, _opts, _root, _build_root, runtime_dir),
    do: Natives.host(runtime_dir: runtime_dir)

  defp arch(name) do
    case Target.parse_arch(name) do
      {:ok, arch} -> {:ok, arch}
      {:error, _} -> {:error, "--arch expects x86_64 or arm64 (Lambda's names), got #{name}"}
    end
  end

  defp erts("zig", _arch), do: {:ok, :zig}

  defp erts("host", arch) do
    if arch == Target.host_arch() do
      {:ok, :host}
    else
      {:error,
       "--erts host copies this machine's ERTS, which is #{Target.host_arch()}, " <>
         "not #{arch}: drop --erts host to build ERTS for #{arch} with zig"}
    end
  end

  defp erts(other, _), do: {:error, "--erts expects zig (the default) or host, got #{other}"}

  # zig builds default to 2.31; the host's ERTS is checked against the
  # target's 2.34 unless told otherwise.
  defp glibc(nil, :zig, _force), do: {:ok, Platform.default_glibc()}
  defp glibc(nil, :host, _force), do: {:ok, @target_glibc}

  defp glibc(text, _erts, force) do
    case ElfCheck.parse_version(text) do
      {:ok, version} when version <= @target_glibc or force == true ->
        {:ok, version}

      {:ok, _} ->
        {:error,
         "--glibc #{text} is newer than provided.al2023's glibc 2.34: a layer that " <>
           "needs it cannot start on Lambda. Leave --glibc out (2.31), or add --force " <>
           "for a local experiment (deploy refuses such a layer)"}

      :error ->
        {:error, "--glibc expects a version such as 2.31 or 2.34, got #{text}"}
    end
  end

  # The interpreter boots on ~0.65x the JIT's CPU (it compiles nothing as
  # modules load) and its layer is smaller; `--flavor jit` for CPU-heavy
  # handlers. BENCHMARKS.md has the measurements.
  defp default_flavor(:zig), do: "emu"
  defp default_flavor(:host), do: "jit"

  defp flavor("jit", _), do: {:ok, :jit}
  defp flavor("emu", :zig), do: {:ok, :emu}

  defp flavor("emu", :host),
    do: {:error, "--flavor emu needs ERTS built from source: drop --erts host"}

  defp flavor(other, _), do: {:error, "--flavor expects jit or emu, got #{other}"}

  # lambda_runtime's sources (bootstrap.sh, the NIF crate).
  defp runtime_root do
    root = LambdaRuntime.Tools.source_root()
    path = Path.join(root, "bootstrap.sh")

    if File.regular?(path),
      do: {:ok, root},
      else: {:error, "#{path} is missing from the lambda_runtime sources"}
  end
end
