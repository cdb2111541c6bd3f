defmodule LambdaRuntime.Tools.Layer.ErtsBuild do
  @moduledoc """
  Compiles the native half of a portable layer from OTP's sources with zig
  for a `LambdaRuntime.Tools.Layer.Platform`: the ERTS executables (`beam.smp`,
  `erlexec`, `erl_child_setup`, `inet_gethost`) and the NIFs of the OTP
  applications the layer carries (`crypto.so`, linked against OpenSSL
  3.0's `libcrypto.so.3`, and asn1's `asn1rt_nif.so`).

  OTP's own build system does the work (`configure`, `make erl_interface`,
  `make emulator`, then the two NIF directories), with zig as the C and
  C++ compiler (`LambdaRuntime.Tools.Layer.Zig`), `--without-termcap` and the
  built-in zlib (so nothing links libtinfo or libz), and `-s` to strip at
  link time. The result needs only glibc (libc, libm, ld.so; zig links
  its libc++ statically) of at most the platform's version.

  One change to the sources, in the build's own copy: zig cannot write
  the precompiled header (`asmjit.hpp.gch`) the JIT's makefile builds, so
  that rule only touches a stamp and the header is included as text.

  Builds are cached per OTP version, source fingerprint, platform,
  flavor, zig version and this recipe (`@recipe`): the first build of a
  platform takes minutes, the next ones nothing.
  """

  alias LambdaRuntime.Tools.Layer.{Cache, OtpSource, Platform, Step, Zig}

  @recipe 2
  @erts_bins ~w(beam.smp erlexec erl_child_setup inet_gethost)
  # The NIF libraries of the carried applications, by application.
  @app_nifs %{crypto: ~w(crypto.so crypto_callback.so), asn1: ~w(asn1rt_nif.so)}

  defstruct [:dir, :flavor, :key]
  @type t :: %__MODULE__{dir: Path.t(), flavor: :jit | :emu, key: String.t()}

  @doc "The ERTS executables a layer holds."
  def erts_bins, do: @erts_bins

  @doc "The NIF libraries built for each carried OTP application."
  def app_nifs, do: @app_nifs

  @doc """
  Builds (or takes from the cache) ERTS and the OTP NIFs for `platform`.
  `openssl` is the prefix of the OpenSSL to compile `crypto` against.
  The result's `dir` holds `bin/` (the ERTS executables) and
  `lib/APP/` (each application's NIF libraries).
  """
  @spec build!(OtpSource.t(), Platform.t(), :jit | :emu, Zig.t(), Path.t()) :: t()
  def build!(%OtpSource{} = source, %Platform{} = platform, flavor, %Zig{} = zig, openssl) do
    # The OpenSSL build's own cache entry names its version and recipe.
    ssl = Cache.short_hash(Path.basename(Path.dirname(openssl)))

    key =
      "otp#{source.otp_version}-#{source.fingerprint}-#{Platform.slug(platform)}-#{flavor}" <>
        "-zig#{zig.version}-ssl#{binary_part(ssl, 0, 8)}-r#{@recipe}"

    {how, dir} =
      Cache.fetch(Cache.path("erts", key), fn tmp ->
        src = Path.join(tmp, "src")
        log = Cache.path("logs", "erts-#{key}.log")
        File.rm(log)
        Step.run!("Copying the OTP sources", "cp", ["-a", source.dir, src], log: log)
        if flavor == :jit, do: patch_asmjit_pch!(src)
        compile!(src, platform, flavor, zig, openssl, log)
        collect!(src, tmp, platform)
        File.rm_rf!(src)
      end)

    if how == :cached, do: Step.info("ERTS #{key}: cached")
    %__MODULE__{dir: dir, flavor: flavor, key: key}
  end

  defp compile!(src, platform, flavor, zig, openssl, log) do
    bin = Zig.wrappers!(zig, platform)
    target = Platform.gnu_triple(platform)

    env = [
      {"ERL_TOP", src},
      {"PATH", bin <> ":" <> System.get_env("PATH", "")},
      {"CC", Path.join(bin, "cc")},
      {"CXX", Path.join(bin, "c++")},
      {"AR", Path.join(bin, "ar")},
      {"RANLIB", Path.join(bin, "ranlib")},
      {"LDFLAGS", "-s"},
      # Never pick up the host's Erlang while building.
      {"ERL_LIBS", ""}
    ]

    # A cross build must name a system root, or crypto's configure will not
    # look for OpenSSL at all; zig brings its own libc, so the root is only
    # where --with-ssl's absolute path starts.
    cross =
      if Platform.native?(platform),
        do: [],
        else: ["--host=#{target}", "--build=#{build_triple()}", "erl_xcomp_sysroot=/"]

    configure =
      cross ++
        [
          "--without-termcap",
          "--enable-builtin-zlib",
          if(flavor == :jit, do: "--enable-jit", else: "--disable-jit"),
          "--with-ssl=#{openssl}",
          "--with-ssl-rpath=no",
          "--without-javac",
          "--without-wx",
          "--without-odbc",
          "--without-observer",
          "--without-debugger",
          "--without-et"
        ]

    label = "ERTS #{flavor} for #{Platform.slug(platform)}"
    jobs = "-j#{System.schedulers_online()}"
    opts = [cd: src, env: env, log: log]
    Step.run!("#{label}: configure", "./configure", configure, opts)
    Step.run!("#{label}: erl_interface", "make", [jobs, "erl_interface"], opts)
    Step.run!("#{label}: emulator", "make", [jobs, "emulator"], opts)

    for app <- Map.keys(@app_nifs) do
      Step.run!(
        "#{label}: #{app} NIF",
        "make",
        [jobs, "-C", "lib/#{app}/c_src", "TARGET=#{target}", "opt"],
        opts
      )
    end
  end

  defp build_triple do
    case :erlang.system_info(:system_architecture) |> to_string() do
      "x86_64" <> _ -> "x86_64-pc-linux-gnu"
      "aarch64" <> _ -> "aarch64-unknown-linux-gnu"
      other -> other
    end
  end

  # Moves the outputs out of the source tree: tmp/bin, tmp/lib/APP.
  defp collect!(src, tmp, platform) do
    target = Platform.gnu_triple(platform)
    File.mkdir_p!(Path.join(tmp, "bin"))

    for bin <- @erts_bins do
      File.cp!(Path.join([src, "bin", target, bin]), Path.join([tmp, "bin", bin]))
    end

    for {app, libs} <- @app_nifs, lib <- libs do
      from = Path.join([src, "lib", "#{app}", "priv/lib", target, lib])
      to = Path.join([tmp, "lib", "#{app}", lib])
      File.mkdir_p!(Path.dirname(to))
      File.cp!(from, to)
    end
  end

  @pch_rule_head "$(ASMJIT_PCH_OBJ): $(ASMJIT_PCH_SRC)"
  @pch_recipe_end "-I$(TTF_DIR) -c $< -o $@"

  @doc false
  # The JIT's makefile compiles asmjit.hpp into a precompiled header;
  # zig's clang driver writes an object file instead, which the link then
  # rejects. The rule becomes a stamp; `-include asmjit.hpp` stays, so
  # the header is read as text (slower to compile, same code).
  def patch_asmjit_pch!(src) do
    path = Path.join(src, "erts/emulator/Makefile.in")
    text = File.read!(path)

    with [before, rule] <- String.split(text, @pch_rule_head, parts: 2),
         [_recipe, rest] <- String.split(rule, @pch_recipe_end, parts: 2),
         [deps, _] <- String.split(rule, "\n", parts: 2) do
      patched =
        String.replace(
          before,
          "ASMJIT_PCH_OBJ=$(TTF_DIR)/asmjit/asmjit.hpp.gch",
          "ASMJIT_PCH_OBJ=$(TTF_DIR)/asmjit/asmjit.hpp.stamp"
        ) <> @pch_rule_head <> deps <> "\n\ttouch $@" <> rest

      File.write!(path, patched)
    else
      _ ->
        Mix.raise(
          "#{path} has no asmjit precompiled-header rule in the expected form; " <>
            "this OTP version needs a new zig workaround in #{inspect(__MODULE__)}"
        )
    end
  end
end
