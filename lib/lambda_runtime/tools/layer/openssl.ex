defmodule LambdaRuntime.Tools.Layer.OpenSSL do
  @moduledoc """
  OpenSSL 3 built with zig for a layer's platform, for two uses:

    * `:link` — OpenSSL 3.0.8, the version `provided.al2023` first
      shipped. OTP's `crypto` NIF is compiled against its headers and
      linked against its `libcrypto.so.3`, so it needs only symbols of
      the `OPENSSL_3.0.0` version node, which every OpenSSL 3 has; on
      Lambda it loads the image's own `libcrypto.so.3` (`openssl-libs`).
      The same library stands in for AL2023's in the old-glibc test root.
    * `:bundle` — OpenSSL 3.5.5 (a long-term-support release), shipped in
      the layer's `shlib/` by `mix lambda.layer --bundle-libcrypto`, for
      targets without OpenSSL 3.

  The sources come from the `openssl-src` crate on crates.io (the
  registry every Rust install reaches), checked against the SHA-256
  pinned below, and the build is cached per version and platform.
  """

  alias LambdaRuntime.Tools.Layer.{Cache, Download, Platform, Step, Zig}

  @sources %{
    link: %{
      crate: "openssl-src-300.0.13+3.0.8",
      version: "3.0.8",
      sha256: "f00789a63ec8951fcda9adb0f2258582afdcfe1b2435e332d3a859896f814f0a"
    },
    bundle: %{
      crate: "openssl-src-300.5.5+3.5.5",
      version: "3.5.5",
      sha256: "3f1787d533e03597a7934fd0a765f0d28e94ecc5fb7789f8053b1e699a56f709"
    }
  }

  # Bumped when the build recipe below changes (part of the cache key).
  @recipe 2

  @doc "The OpenSSL version used for `use` (`:link` or `:bundle`)."
  def version(use), do: @sources |> Map.fetch!(use) |> Map.fetch!(:version)

  @doc """
  Builds (or finds in the cache) OpenSSL's libcrypto for `platform` and
  returns its install prefix: `include/openssl/`, and
  `lib/libcrypto.so.3` (stripped) with its `libcrypto.so` link.
  """
  @spec build!(:link | :bundle, Platform.t(), Zig.t()) :: Path.t()
  def build!(use, %Platform{} = platform, %Zig{} = zig) do
    source = Map.fetch!(@sources, use)
    key = "#{source.version}-#{Platform.slug(platform)}-zig#{zig.version}-r#{@recipe}"
    entry = Cache.path("openssl", key)

    {how, dir} =
      Cache.fetch(entry, fn tmp ->
        src = unpack!(source, tmp)
        compile!(src, Path.join(tmp, "prefix"), platform, zig, key)
        File.rm_rf!(src)
      end)

    if how == :cached, do: Step.info("OpenSSL #{source.version} for #{key}: cached")
    Path.join(dir, "prefix")
  end

  defp unpack!(source, tmp) do
    crate = Cache.path("downloads", "#{source.crate}.crate")

    unless File.regular?(crate) do
      url = "https://static.crates.io/crates/openssl-src/#{source.crate}.crate"
      Step.info("Downloading OpenSSL #{source.version} sources from #{url}")

      case Download.fetch(url, crate, source.sha256) do
        :ok -> :ok
        {:error, message} -> Mix.raise(message)
      end
    end

    Step.run!("Unpacking #{source.crate}", "tar", ["-xzf", crate, "-C", tmp],
      log: Cache.path("logs", "#{source.crate}-unpack.log")
    )

    Path.join([tmp, source.crate, "openssl"])
  end

  defp compile!(src, prefix, platform, zig, key) do
    bin = Zig.wrappers!(zig, platform)
    log = Cache.path("logs", "openssl-#{key}.log")
    File.rm(log)

    env = [
      {"PATH", bin <> ":" <> System.get_env("PATH", "")},
      {"CC", Path.join(bin, "cc")},
      {"AR", Path.join(bin, "ar")},
      {"RANLIB", Path.join(bin, "ranlib")},
      # Stripped at link time: zig's objcopy cannot strip a shared
      # library, and the host's strip may not know the architecture.
      {"LDFLAGS", "-s"}
    ]

    configure =
      [Platform.openssl_target(platform), "shared", "no-tests"] ++
        ["--prefix=#{prefix}", "--libdir=lib", "--openssldir=/etc/pki/tls"]

    label = "OpenSSL for #{Platform.slug(platform)}"
    Step.run!("#{label}: configure", "./Configure", configure, cd: src, env: env, log: log)
    # Only libcrypto: OTP's crypto links nothing else (libssl is ~1/6 of
    # the build); the headers are copied as `make install_dev` would.
    Step.run!("#{label}: headers", "make", ["build_generated"], cd: src, env: env, log: log)
    jobs = "-j#{System.schedulers_online()}"
    Step.run!("#{label}: compile", "make", [jobs, "libcrypto.so"], cd: src, env: env, log: log)
    install!(src, prefix)
  end

  @doc false
  # What `make install_dev` would put in the prefix, for libcrypto only.
  def install!(src, prefix) do
    File.mkdir_p!(Path.join(prefix, "lib"))
    File.mkdir_p!(Path.join(prefix, "include"))
    File.cp_r!(Path.join(src, "include/openssl"), Path.join(prefix, "include/openssl"))
    File.cp!(Path.join(src, "libcrypto.so.3"), Path.join(prefix, "lib/libcrypto.so.3"))
    File.ln_s!("libcrypto.so.3", Path.join(prefix, "lib/libcrypto.so"))
  end
end
