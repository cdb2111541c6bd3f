defmodule LambdaRuntime.Tools.Layer.Natives do
  @moduledoc """
  The native (ELF) files of a layer and where they come from; the rest of
  the layer (the `.beam` files, boot files, `bootstrap`) always comes from
  this installation and the project.

    * `portable!/2` (the default, `--erts zig`): ERTS, crypto's and asn1's
      NIFs compiled from OTP's sources with zig (`ErtsBuild`), crypto
      against OpenSSL 3.0 (`OpenSSL`), and the runtime's NIF: the package's
      precompiled one (`LambdaRuntime.Tools.PrecompiledNif`) when it was built
      from these sources for this target, else cargo zigbuild
      (`NifBuild`); all for the platform's architecture and glibc.
      With `bundle_libcrypto: true`, an OpenSSL 3.5 `libcrypto.so.3` goes
      into `shlib/`; otherwise the target's own is used.
    * `host/1` (`--erts host`): this machine's ERTS and NIFs, with the
      shared libraries they need copied into `shlib/` by the builder
      (`LambdaRuntime.Tools.Layer.Libs`); only right when this machine is as old
      as the target.
  """

  alias LambdaRuntime.Tools.Layer.{
    Contents,
    ErtsBuild,
    NifBuild,
    OpenSSL,
    OtpSource,
    Platform,
    Step,
    Target,
    Zig
  }

  defstruct [
    :platform,
    :erts_bins,
    :app_libs,
    :nif,
    :shlib,
    :erts_build,
    :flavor,
    :zig,
    :otp_source
  ]

  @type t :: %__MODULE__{
          platform: Platform.t(),
          erts_bins: [{Path.t(), String.t()}],
          app_libs: %{atom() => [{Path.t(), String.t()}]} | nil,
          nif: Path.t(),
          shlib: [{String.t(), Path.t()}] | :host,
          erts_build: :zig | :host,
          flavor: :jit | :emu,
          zig: String.t() | nil,
          otp_source: String.t() | nil
        }

  @doc """
  Builds (or takes from the cache) the native files for `platform`.
  Options: `:otp_source` (path or nil), `:flavor` (`:emu`), `:bundle_libcrypto`
  (false), `:runtime_root` (the lambda_runtime sources, for the NIF crate),
  `:nif_target_dir` (cargo's target directory).
  """
  @spec portable!(Platform.t(), keyword()) :: t()
  def portable!(%Platform{} = platform, opts) do
    zig = Zig.find!()
    source = OtpSource.resolve!(Keyword.get(opts, :otp_source))
    flavor = Keyword.get(opts, :flavor, :emu)
    openssl = OpenSSL.build!(:link, platform, zig)
    erts = ErtsBuild.build!(source, platform, flavor, zig, openssl)

    nif = nif!(platform, zig, opts)

    shlib =
      if Keyword.get(opts, :bundle_libcrypto, false) do
        prefix = OpenSSL.build!(:bundle, platform, zig)
        [{"libcrypto.so.3", Path.join(prefix, "lib/libcrypto.so.3")}]
      else
        []
      end

    %__MODULE__{
      platform: platform,
      erts_bins: for(bin <- ErtsBuild.erts_bins(), do: {Path.join([erts.dir, "bin", bin]), bin}),
      app_libs:
        Map.new(ErtsBuild.app_nifs(), fn {app, libs} ->
          {app, for(lib <- libs, do: {Path.join([erts.dir, "lib", "#{app}", lib]), lib})}
        end),
      nif: nif,
      shlib: shlib,
      erts_build: :zig,
      flavor: flavor,
      zig: zig.version,
      otp_source: source.origin
    }
  end

  # The package's precompiled NIF when it was built from these sources for
  # this target (no Rust needed), else a cargo zigbuild.
  defp nif!(platform, zig, opts) do
    root = Keyword.fetch!(opts, :runtime_root)

    case LambdaRuntime.Tools.PrecompiledNif.for_target(
           root,
           Platform.cpu(platform),
           platform.glibc
         ) do
      {:ok, path} ->
        Step.info("NIF for #{Platform.slug(platform)}: native/precompiled (SHA-256 checked)")
        path

      {:unavailable, reason} ->
        Step.info("NIF for #{Platform.slug(platform)}: #{reason}; building it")
        NifBuild.build!(root, platform, zig, Keyword.fetch!(opts, :nif_target_dir))

      {:error, message} ->
        Mix.raise(message)
    end
  end

  @doc """
  This machine's own native files (`--erts host`). Option `:runtime_dir`:
  the built lambda_runtime application, whose `priv/native` has the NIF.
  """
  @spec host(keyword()) :: t()
  def host(opts) do
    %__MODULE__{
      platform: %Platform{arch: Target.host_arch(), glibc: nil},
      erts_bins: for({src, dest} <- Contents.erts_files(), do: {src, Path.basename(dest)}),
      app_libs: nil,
      nif: Path.join(Keyword.fetch!(opts, :runtime_dir), "priv/native/liblambda_runtime_nif.so"),
      shlib: :host,
      erts_build: :host,
      flavor: :erlang.system_info(:emu_flavor),
      zig: nil,
      otp_source: nil
    }
  end
end
