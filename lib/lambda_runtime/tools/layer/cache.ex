defmodule LambdaRuntime.Tools.Layer.Cache do
  @moduledoc """
  The build cache of portable layers: sources, the OpenSSL library, ERTS
  and zig's tools, under `$LAMBDA_RUNTIME_CACHE`, or else
  `$XDG_CACHE_HOME/lambda_runtime` (`~/.cache/lambda_runtime`).

  An entry is a directory named for everything that decides its contents
  (versions, target, a hash of the sources and of the build recipe), so
  an entry is never stale: changed inputs make a new name. `fetch/2`
  builds an entry in a scratch directory beside it and renames it into
  place only when the build succeeded, so an interrupted build leaves
  nothing that looks finished.
  """

  @doc "The cache's root directory."
  @spec root() :: Path.t()
  def root do
    case System.get_env("LAMBDA_RUNTIME_CACHE") do
      dir when dir not in [nil, ""] -> Path.expand(dir)
      _ -> :filename.basedir(:user_cache, ~c"lambda_runtime") |> to_string()
    end
  end

  @doc "The path of entry `name` in `section` (`\"erts\"`, `\"openssl\"`, ...)."
  @spec path(String.t(), String.t()) :: Path.t()
  def path(section, name), do: Path.join([root(), section, name])

  @doc """
  Returns `{:cached, dir}` when the entry exists, else calls `build.(tmp)`
  with an empty scratch directory, renames it to the entry and returns
  `{:built, dir}`. A build that raises leaves no entry (its scratch
  directory is removed).
  """
  @spec fetch(Path.t(), (Path.t() -> any())) :: {:cached | :built, Path.t()}
  def fetch(dir, build) do
    if File.dir?(dir) do
      {:cached, dir}
    else
      tmp = "#{dir}.tmp-#{System.unique_integer([:positive])}-#{:os.getpid()}"
      File.rm_rf!(tmp)
      File.mkdir_p!(tmp)

      try do
        build.(tmp)
      rescue
        e ->
          File.rm_rf(tmp)
          reraise e, __STACKTRACE__
      end

      # Another build of the same entry may have finished first: keep it.
      case File.rename(tmp, dir) do
        :ok ->
          {:built, dir}

        {:error, _} when is_binary(dir) ->
          if File.dir?(dir) do
            File.rm_rf!(tmp)
            {:built, dir}
          else
            raise File.RenameError, source: tmp, destination: dir, reason: :eexist, action: "move"
          end
      end
    end
  end

  @doc "The first 16 hex digits of the SHA-256 of `data` (iodata)."
  @spec short_hash(iodata()) :: String.t()
  def short_hash(data) do
    :crypto.hash(:sha256, data) |> Base.encode16(case: :lower) |> binary_part(0, 16)
  end

  @doc "The SHA-256 of a file, as lower-case hex."
  @spec file_sha256(Path.t()) :: String.t()
  def file_sha256(path) do
    path
    |> File.stream!([], 1_048_576)
    |> Enum.reduce(:crypto.hash_init(:sha256), &:crypto.hash_update(&2, &1))
    |> :crypto.hash_final()
    |> Base.encode16(case: :lower)
  end
end
