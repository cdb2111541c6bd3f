defmodule LambdaRuntime.Tools.Layer.OtpSource do
  @moduledoc """
  The Erlang/OTP sources a portable layer's ERTS is compiled from. They
  must be those of exactly the OTP that runs this build: the layer takes
  its `.beam` files from this installation and only its C parts from the
  sources, and a beam file and an emulator of different versions do not
  mix.

  Where they come from, first match wins:

    1. `--otp-source PATH` (a source tarball or an unpacked directory);
    2. `$LAMBDA_OTP_SOURCE` (the same);
    3. a download of the official `otp_src_VSN.tar.gz` from the Erlang/OTP
       release on GitHub (`$LAMBDA_OTP_DOWNLOAD_URL` replaces
       `https://github.com/erlang/otp/releases/download`), checked against
       the `SHA256.txt` published with the release, kept in the cache.

  A distribution's patched sources work too and are the better choice
  when the OTP was installed from it: on Debian, `apt-get source erlang`
  (with a `deb-src` entry) gives the installed version with its patches;
  `scripts/setup.sh` does that.
  """

  alias LambdaRuntime.Tools.Layer.{Cache, Download, Step}

  defstruct [:dir, :otp_version, :erts_version, :fingerprint, :origin]

  @type t :: %__MODULE__{
          dir: Path.t(),
          otp_version: String.t(),
          erts_version: String.t(),
          fingerprint: String.t(),
          origin: String.t()
        }

  @default_url "https://github.com/erlang/otp/releases/download"

  # What decides the C parts the layer takes from the sources: ERTS, the
  # build system, and crypto's and asn1's NIFs.
  @fingerprinted ~w(erts make lib/crypto/c_src lib/asn1/c_src)
  @top_files ~w(OTP_VERSION configure configure.src otp_build Makefile.in)

  @doc "The full version of the running OTP, e.g. `\"25.2.3\"`."
  @spec host_otp_version() :: String.t()
  def host_otp_version do
    release = :erlang.system_info(:otp_release) |> to_string()
    path = Path.join([to_string(:code.root_dir()), "releases", release, "OTP_VERSION"])

    case File.read(path) do
      {:ok, text} -> text |> String.trim() |> String.trim_trailing("**")
      {:error, _} -> release
    end
  end

  @doc "The running ERTS version, e.g. `\"13.1.5\"`."
  def host_erts_version, do: :erlang.system_info(:version) |> to_string()

  @doc """
  Resolves the sources (see the moduledoc) into an unpacked directory
  whose OTP and ERTS versions match this VM's. `explicit` is the
  `--otp-source` value or nil. Raises `Mix.Error` naming the problem.
  """
  @spec resolve!(String.t() | nil) :: t()
  def resolve!(explicit) do
    env = System.get_env("LAMBDA_OTP_SOURCE")

    {path, origin} =
      cond do
        explicit not in [nil, ""] -> {Path.expand(explicit), "--otp-source"}
        env not in [nil, ""] -> {Path.expand(env), "LAMBDA_OTP_SOURCE"}
        true -> {download!(host_otp_version()), "download"}
      end

    path |> unpack!(origin) |> check!(origin)
  end

  defp unpack!(path, origin) do
    cond do
      File.dir?(path) ->
        path

      File.regular?(path) ->
        sha = Cache.file_sha256(path)

        {_, dir} =
          Cache.fetch(Cache.path("otp-src", "unpacked-#{binary_part(sha, 0, 16)}"), fn tmp ->
            Step.run!("Unpacking #{Path.basename(path)}", "tar", ["-xf", path, "-C", tmp],
              log: Cache.path("logs", "unpack-#{binary_part(sha, 0, 16)}.log")
            )
          end)

        top_dir!(dir, path)

      true ->
        Mix.raise("the OTP sources given by #{origin} do not exist: #{path}")
    end
  end

  # A tarball holds one top directory (otp_src_VSN/, or otp-OTP-VSN/).
  defp top_dir!(dir, tarball) do
    if File.regular?(Path.join(dir, "OTP_VERSION")) do
      dir
    else
      case Path.wildcard(Path.join(dir, "*/OTP_VERSION")) do
        [file] -> Path.dirname(file)
        _ -> Mix.raise("#{tarball} does not look like an Erlang/OTP source tarball")
      end
    end
  end

  @doc false
  @spec check!(Path.t(), String.t()) :: t()
  def check!(dir, origin) do
    otp_file = Path.join(dir, "OTP_VERSION")
    vsn_mk = Path.join(dir, "erts/vsn.mk")

    unless File.regular?(otp_file) and File.regular?(vsn_mk) do
      Mix.raise(
        "#{dir} (from #{origin}) is not an Erlang/OTP source tree: " <>
          "it has no OTP_VERSION or erts/vsn.mk"
      )
    end

    otp = otp_file |> File.read!() |> String.trim() |> String.trim_trailing("**")
    erts = erts_vsn(File.read!(vsn_mk))

    if otp != host_otp_version() or erts != host_erts_version() do
      Mix.raise("""
      the OTP sources in #{dir} (from #{origin}) are OTP #{otp} (ERTS #{erts}), but this \
      build runs on OTP #{host_otp_version()} (ERTS #{host_erts_version()}). The layer takes \
      its beams from this installation, so its ERTS must be built from the same version: \
      give the sources of OTP #{host_otp_version()} with --otp-source or LAMBDA_OTP_SOURCE.
      """)
    end

    %__MODULE__{
      dir: dir,
      otp_version: otp,
      erts_version: erts,
      fingerprint: fingerprint(dir),
      origin: origin
    }
  end

  defp erts_vsn(text) do
    case Regex.run(~r/^VSN\s*=\s*(\S+)/m, text) do
      [_, vsn] -> vsn
      nil -> "unknown"
    end
  end

  @doc """
  A hash of the source files that decide the layer's C parts (ERTS, the
  build system, crypto's and asn1's NIFs): part of the ERTS cache key, so
  patched sources never reuse a build of unpatched ones.
  """
  @spec fingerprint(Path.t()) :: String.t()
  def fingerprint(dir) do
    files =
      Enum.flat_map(@fingerprinted, &Path.wildcard(Path.join([dir, &1, "**"]), match_dot: true)) ++
        Enum.map(@top_files, &Path.join(dir, &1))

    files
    |> Enum.filter(&File.regular?/1)
    |> Enum.sort()
    |> Enum.reduce(:crypto.hash_init(:sha256), fn path, acc ->
      acc
      |> :crypto.hash_update(Path.relative_to(path, dir) <> <<0>>)
      |> :crypto.hash_update(File.read!(path))
    end)
    |> :crypto.hash_final()
    |> Base.encode16(case: :lower)
    |> binary_part(0, 16)
  end

  @doc "The URL the tarball of `version` is downloaded from."
  def tarball_url(version), do: "#{base_url()}/OTP-#{version}/otp_src_#{version}.tar.gz"

  defp base_url do
    case System.get_env("LAMBDA_OTP_DOWNLOAD_URL") do
      url when url not in [nil, ""] -> String.trim_trailing(url, "/")
      _ -> @default_url
    end
  end

  @doc """
  Downloads `otp_src_VSN.tar.gz` into the cache (once) and verifies it
  against the release's `SHA256.txt`. Returns the tarball's path.
  """
  @spec download!(String.t()) :: Path.t()
  def download!(version) do
    name = "otp_src_#{version}.tar.gz"
    dest = Cache.path("otp-src", name)

    if File.regular?(dest) do
      dest
    else
      url = tarball_url(version)
      sums_url = "#{base_url()}/OTP-#{version}/SHA256.txt"

      Step.info(
        "Downloading the OTP #{version} sources from #{url} (checked against #{sums_url}; " <>
          "--otp-source or LAMBDA_OTP_SOURCE use local sources instead)"
      )

      with {:ok, sums} <- Download.get(sums_url),
           {:ok, sha} <- published_sha(sums, name, sums_url),
           :ok <- Download.fetch(url, dest, sha) do
        dest
      else
        {:error, message} ->
          Mix.raise(
            "#{message}. Give the OTP #{version} sources with --otp-source PATH " <>
              "or LAMBDA_OTP_SOURCE instead."
          )
      end
    end
  end

  @doc false
  def published_sha(sums, name, sums_url) do
    Enum.find_value(String.split(sums, "\n"), {:error, "#{sums_url} lists no #{name}"}, fn line ->
      case String.split(String.trim(line), ~r/\s+\*?/, parts: 2) do
        [sha, ^name] when byte_size(sha) == 64 -> {:ok, String.downcase(sha)}
        _ -> nil
      end
    end)
  end
end
