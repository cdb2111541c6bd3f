defmodule Mix.Tasks.Lambda.Layer do
  @shortdoc "Builds the lambda_runtime Lambda layer zip (ERTS, OTP, Elixir, runtime)"
  @moduledoc """
  Builds one Lambda layer zip for `provided.al2023` whose root becomes
  `/opt`: `bootstrap`, ERTS, the OTP and Elixir applications of this
  machine's installation (kernel, stdlib, compiler, elixir, logger,
  crypto, public_key, asn1, ssl, inets), the `lambda_runtime` application
  with its NIF (without its tooling: `LambdaRuntime.Tools`, the Mix tasks,
  the test API), `bin/*.boot`, and a manifest (`lambda_runtime-layer.json`)
  that deploy tools read. Beams are stripped to what the loader needs and
  their attributes, and stored uncompressed in the zip, which compresses
  them.

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
  when not given). With PyPI's `deflate` (`pip install deflate`, for the
  `python3` on PATH or in `.venv/`) the zip is written with libdeflate,
  ~3.5 % smaller than with OTP's zlib. A source build of the NIF also needs cargo-zigbuild
  (`pip install cargo-zigbuild`) and Rust with the target's standard
  library (`rustup target add aarch64-unknown-linux-gnu` for arm64).

  Before zipping, every ELF file is checked (an ELF reader in Elixir, no
  binutils) against what `provided.al2023` provides: the task fails with
  a table when a file needs a newer glibc, a library the target lacks, or
  is built for another architecture.

  The work is `LambdaRuntime.Tools.Layer`'s.

  ## Options

    * `--arch x86_64|arm64` - the Lambda architecture (default `x86_64`).
    * `--output PATH` - where to write the zip (default
      `_build/lambda/layer-ARCH.zip`, under `MIX_BUILD_ROOT` when set).
    * `--otp-source PATH` - OTP's sources, a tarball or a directory, of
      exactly this machine's OTP version (also `LAMBDA_OTP_SOURCE`;
      default: download `otp_src_VSN.tar.gz` from the OTP release on
      GitHub and check it against the release's `SHA256.txt`).
    * `--glibc VERSION` - the newest glibc the native code may need
      (default `2.31`, with `--erts host` `2.34`; past `2.34`,
      provided.al2023's, only with `--force`).
    * `--flavor emu|jit` - the emulator: the interpreter (default; it
      boots on about two thirds of the JIT's CPU, which a 512 MB function's
      0.3 vCPU feels at every cold start, and its layer is smaller) or the
      JIT (faster for CPU-heavy handlers; BENCHMARKS.md, *Layer
      flavors*). `--erts host` is always this machine's (the JIT).
    * `--bundle-libcrypto` - ship an OpenSSL 3.5 `libcrypto.so.3` in the
      layer instead of using the target's (provided.al2023 has OpenSSL 3,
      so the default is not to bundle: 1.8 MB less, and the image's
      OpenSSL gets the security updates).
    * `--erts zig|host` - `zig` (the default) builds ERTS and OTP's NIFs
      from the OTP sources as above; `host` copies this machine's ERTS and
      NIFs and the libraries they need (into `shlib/`): only right on a
      machine as old as the target, and refused when its libraries are
      newer.
    * `--system-lib SONAME` - a library the target provides, so the check
      does not report it missing (nor does `--erts host` bundle it); may be
      given more than once.
    * `--force` - write the zip even when the check fails or `--glibc`
      is past the target's; the manifest records why, and
      `mix lambda.deploy` and `mix lambda.layer.publish` refuse such a
      layer. For local experiments only.
  """
  use Mix.Task

  alias LambdaRuntime.Tools.{CLI, Layer}

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

  @impl Mix.Task
  def run(args) do
    {opts, []} =
      CLI.parse!("lambda.layer", args,
        switches: @switches,
        hint: "use --output PATH to choose where the zip goes"
      )

    options = CLI.ok!("lambda.layer", Layer.options(opts))
    Mix.Task.run("compile", [])

    build_opts =
      Keyword.take(opts, [:output, :otp_source, :bundle_libcrypto, :force]) ++
        [system_libs: Keyword.get_values(opts, :system_lib)]

    CLI.ok!("lambda.layer", Layer.build(options, build_opts))
    :ok
  end
end
