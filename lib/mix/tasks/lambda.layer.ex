defmodule Mix.Tasks.Lambda.Layer do
  @shortdoc "Builds the lambda_runtime Lambda layer zip (ERTS, OTP, Elixir, runtime)"
  @moduledoc """
  Builds one Lambda layer zip for `provided.al2023` whose root becomes
  `/opt`: `bootstrap`, ERTS, the OTP and Elixir applications of this
  machine's installation (kernel, stdlib, compiler, elixir, logger,
  crypto, public_key, asn1, ssl, inets), the `lambda_runtime` application
  with its NIF, `bin/*.boot`, and a manifest (`lambda_runtime-layer.json`)
  that deploy tools read. Beams are stripped of debug info and docs.

  The layer's native code does not come from this machine: ERTS, crypto's
  and asn1's NIFs are compiled from the sources of exactly this machine's
  OTP version with zig, for the chosen architecture and a glibc no newer
  than 2.31, and the runtime's NIF is the package's precompiled one for
  that architecture (compiled with cargo zigbuild only when its sources
  changed). So any Linux machine builds a layer that starts on Lambda, for
  x86_64 or arm64 (Graviton). The first build of an architecture takes
  several minutes (OpenSSL, ERTS); later builds take seconds (see
  `LambdaRuntime.Tools.Layer.Cache`).

      mix lambda.layer                      # x86_64, _build/lambda/layer-x86_64.zip
      mix lambda.layer --arch arm64
      mix lambda.layer --otp-source ~/src/otp_src_25.2.3.tar.gz
      mix lambda.layer --flavor jit         # the JIT instead of the interpreter
      mix lambda.layer --bundle-libcrypto   # for targets without OpenSSL 3
      mix lambda.layer --erts host --force  # this machine's ERTS (local tests only)

  Works in the lambda_runtime repository and in any project that depends
  on `:lambda_runtime`; it compiles the project first. It needs zig
  (`pip install ziglang`) and the OTP sources (downloaded and verified
  when not given); a source build of the NIF also needs cargo-zigbuild
  (`pip install cargo-zigbuild`) and Rust with the target's standard
  library (`rustup target add aarch64-unknown-linux-gnu` for arm64).

  Before zipping, every ELF file is checked (an ELF reader in Elixir, no
  binutils) against what `provided.al2023` provides: the task fails with
  a table when a file needs a newer glibc, a library the target lacks, or
  is built for another architecture.

  ## Options

    * `--arch x86_64|arm64` - the Lambda architecture (default `x86_64`).
    * `--output PATH` - where to write the zip (default
      `_build/lambda/layer-ARCH.zip`, under `MIX_BUILD_ROOT` when set).
    * `--otp-source PATH` - OTP's sources, a tarball or a directory, of
      exactly this machine's OTP version (also `LAMBDA_OTP_SOURCE`;
      default: download `otp_src_VSN.tar.gz` from the OTP release on
      GitHub and check it against the release's `SHA256.txt`).
    * `--glibc VERSION` - the newest glibc the native code may need
      (default `2.31`; at most `2.34`, provided.al2023's).
    * `--flavor emu|jit` - the emulator: the interpreter (default; it
      boots on about two thirds of the JIT's CPU, which a 512 MB function's
      0.3 vCPU feels at every cold start, and its layer is smaller) or the
      JIT (faster for CPU-heavy handlers; see BENCHMARKS.md for the
      break-even). `--erts host` is always this machine's (the JIT).
    * `--bundle-libcrypto` - ship an OpenSSL 3.5 `libcrypto.so.3` in the
      layer instead of using the target's (provided.al2023 has OpenSSL 3,
      so the default is not to bundle: 1.8 MB less, and the image's
      OpenSSL gets the security updates).
    * `--erts zig|host` - `host` copies this machine's ERTS and NIFs and
      the libraries they need (into `shlib/`); only right on a machine
      as old as the target, and refused when its libraries are newer.
    * `--system-lib SONAME` - a library the target provides, so it is
      neither bundled nor reported missing (with `--erts host`); may be
      given more than once.
    * `--force` - write the zip even when the check fails or `--glibc`
      is past the target's; the manifest records why, and
      `mix lambda.deploy` and `mix lambda.layer.publish` refuse such a
      layer. For local experiments only.
  """
  use Mix.Task

  alias LambdaRuntime.Tools.Layer.{Builder, ElfCheck, Natives, Platform, Target}

  @switches [
    arch: :string,
    output: :string,
    otp_source: :string,
    glibc: :string,
    flavor: :string,
    bundle_libcrypto: :boolean,
    erts: :string,
    system_lib: :keep,
    force: :boolean
  ]

  @target_glibc {2, 34}

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

    arch = arch!(opts[:arch] || "x86_64")
    erts = erts!(opts[:erts] || "zig", arch)
    glibc = glibc!(opts[:glibc], erts, opts[:force])
    flavor = flavor!(opts[:flavor] || default_flavor(erts), erts)

    Mix.Task.run("compile", [])

    build_root = Path.dirname(Mix.Project.build_path())
    runtime_dir = Path.join(Mix.Project.build_path(), "lib/lambda_runtime")
    name = "layer-#{arch}"
    output = Path.expand(opts[:output] || Path.join(build_root, "lambda/#{name}.zip"))

    natives =
      case erts do
        :zig ->
          Mix.shell().info([:cyan, "==> ", :reset, "Native code for #{arch}, glibc <= 2.31"])

          Natives.portable!(%Platform{arch: arch, glibc: glibc},
            otp_source: opts[:otp_source],
            flavor: flavor,
            bundle_libcrypto: opts[:bundle_libcrypto] || false,
            runtime_root: runtime_root(),
            nif_target_dir: Path.join(build_root, "lambda/nif")
          )

        :host ->
          Natives.host(runtime_dir: runtime_dir)
      end

    result =
      Builder.build(
        natives: natives,
        runtime_dir: runtime_dir,
        bootstrap: Path.join(runtime_root(), "bootstrap.sh"),
        stage: Path.join(build_root, "lambda/stage-#{Path.basename(output, ".zip")}"),
        output: output,
        glibc: glibc,
        system_libs: Keyword.get_values(opts, :system_lib),
        force: opts[:force] || false
      )

    case result do
      {:ok, _} -> :ok
      {:error, message} -> Mix.raise(message)
    end
  end

  defp arch!(name) do
    case Target.parse_arch(name) do
      {:ok, arch} -> arch
      {:error, _} -> Mix.raise("--arch expects x86_64 or arm64 (Lambda's names), got #{name}")
    end
  end

  defp erts!("zig", _arch), do: :zig

  defp erts!("host", arch) do
    if arch != Target.host_arch() do
      Mix.raise(
        "--erts host copies this machine's ERTS, which is #{Target.host_arch()}, " <>
          "not #{arch}: drop --erts host to build ERTS for #{arch} with zig"
      )
    end

    :host
  end

  defp erts!(other, _),
    do: Mix.raise("--erts expects zig (the default) or host, got #{other}")

  # zig builds default to 2.31; the host's ERTS is checked against the
  # target's 2.34 unless told otherwise.
  defp glibc!(nil, :zig, _force), do: Platform.default_glibc()
  defp glibc!(nil, :host, _force), do: @target_glibc

  defp glibc!(text, _erts, force) do
    case ElfCheck.parse_version(text) do
      {:ok, version} when version <= @target_glibc or force == true ->
        version

      {:ok, _} ->
        Mix.raise(
          "--glibc #{text} is newer than provided.al2023's glibc 2.34: a layer that " <>
            "needs it cannot start on Lambda. Leave --glibc out (2.31), or add --force " <>
            "for a local experiment (deploy refuses such a layer)"
        )

      :error ->
        Mix.raise("--glibc expects a version such as 2.31 or 2.34, got #{text}")
    end
  end

  # The interpreter boots on ~0.65x the JIT's CPU (it compiles nothing as
  # modules load) and its layer is smaller; `--flavor jit` for CPU-heavy
  # handlers. BENCHMARKS.md has the measurements.
  defp default_flavor(:zig), do: "emu"
  defp default_flavor(:host), do: "jit"

  defp flavor!("jit", _), do: :jit
  defp flavor!("emu", :zig), do: :emu

  defp flavor!("emu", :host),
    do: Mix.raise("--flavor emu needs ERTS built from source: drop --erts host")

  defp flavor!(other, _), do: Mix.raise("--flavor expects jit or emu, got #{other}")

  # lambda_runtime's sources (bootstrap.sh, the NIF crate): the project
  # itself, or the dependency's checkout.
  defp runtime_root do
    root =
      if Mix.Project.config()[:app] == :lambda_runtime do
        File.cwd!()
      else
        Mix.Project.deps_paths()[:lambda_runtime] ||
          Mix.raise("this project does not depend on :lambda_runtime")
      end

    path = Path.join(root, "bootstrap.sh")
    File.regular?(path) || Mix.raise("#{path} is missing from the lambda_runtime sources")
    root
  end
end
