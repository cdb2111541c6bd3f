defmodule LambdaRuntime.Tools.Package.PrivFiles do
  @moduledoc """
  The files of an application's `priv/` directory that go into the function
  package, walked without trusting symbolic links:

    * a link is followed to what it finally names and stored as a plain
      file (or, for a directory, its files), under the link's own name;
    * a link to a directory that contains it (`ln -s . priv/loop`,
      `ln -s .. priv/up`, or two links naming each other) is a loop, and
      refused with its path: following it would never end (the package
      build once grew to ~24 GB of memory on such a link) or put the same
      files in the zip again and again;
    * a link whose target is outside the project (the application's own
      directory, the one `priv` resolves into, or the Mix project's root)
      is refused with its path and target, unless `allow_external_links:
      true` (`mix lambda.package --allow-external-links`): it would put a
      file of the build machine (`~/.aws/credentials`, `/etc/...`) into the
      uploaded zip;
    * a link that leads nowhere is skipped, as are dotfiles and
      dot-directories at every depth (`.env`, `.git`).
  """

  @max_link_hops 40

  @doc """
  The files under `app_dir/priv` as `{source_path, zip_name}` pairs, zip
  names `lib/APP/priv/...`. Options: `:project_root` (default: the current
  directory), `:allow_external_links` (default false).
  Returns `{:ok, files}` or `{:error, message}`.
  """
  @spec list(String.t(), atom(), keyword()) ::
          {:ok, [{String.t(), String.t()}]} | {:error, String.t()}
  def list(app_dir, app, opts \\ []) do
    priv = Path.join(app_dir, "priv")

    case real_path(priv) do
      {:ok, real} ->
        if File.dir?(real) do
          roots = Enum.uniq([Path.dirname(real), real_path!(opts[:project_root] || File.cwd!())])

          ctx = %{
            roots: roots,
            allow_external: Keyword.get(opts, :allow_external_links, false),
            shown: "lib/#{app}/priv"
          }

          walk(real, "lib/#{app}/priv", [real], ctx, [])
        else
          {:ok, []}
        end

      {:error, _} ->
        {:ok, []}
    end
  end

  # `dir` is a real directory (no link in its path); `chain` the real
  # directories from priv down to it, to find loops.
  defp walk(dir, rel, chain, ctx, acc) do
    names = dir |> File.ls!() |> Enum.sort() |> Enum.reject(&String.starts_with?(&1, "."))

    Enum.reduce_while(names, {:ok, acc}, fn name, {:ok, acc} ->
      case entry(Path.join(dir, name), rel <> "/" <> name, chain, ctx, acc) do
        {:ok, acc} -> {:cont, {:ok, acc}}
        {:error, _} = error -> {:halt, error}
      end
    end)
  end

  defp entry(path, rel, chain, ctx, acc) do
    case File.lstat(path) do
      {:ok, %File.Stat{type: :regular}} -> {:ok, [{path, rel} | acc]}
      {:ok, %File.Stat{type: :directory}} -> walk(path, rel, [path | chain], ctx, acc)
      {:ok, %File.Stat{type: :symlink}} -> link(path, rel, chain, ctx, acc)
      _ -> {:ok, acc}
    end
  end

  defp link(path, rel, chain, ctx, acc) do
    with {:ok, target} <- real_path(path),
         :ok <- inside(rel, target, ctx),
         {:ok, %File.Stat{type: type}} <- File.stat(target) do
      case type do
        :regular ->
          {:ok, [{target, rel} | acc]}

        :directory ->
          if Enum.any?(chain, &within?(&1, target)) do
            {:error,
             "#{rel} is a symbolic link to #{target}, a directory that contains it: " <>
               "a loop, which would put the same files in the package without end. " <>
               "Remove the link, or point it at a directory outside its own tree."}
          else
            walk(target, rel, [target | chain], ctx, acc)
          end

        _ ->
          {:ok, acc}
      end
    else
      {:error, message} when is_binary(message) -> {:error, message}
      # A link that leads nowhere.
      _ -> {:ok, acc}
    end
  end

  defp inside(rel, target, ctx) do
    if ctx.allow_external or Enum.any?(ctx.roots, &within?(target, &1)) do
      :ok
    else
      {:error,
       "#{rel} is a symbolic link to #{target}, outside the project " <>
         "(#{Enum.join(ctx.roots, " or ")}): its contents would be uploaded with the " <>
         "function. Copy what the function needs into priv/, or pass " <>
         "--allow-external-links to package what the link points at."}
    end
  end

  # `path` is `dir` or below it (both real, absolute).
  defp within?(path, dir),
    do: path == dir or String.starts_with?(path, String.trim_trailing(dir, "/") <> "/")

  @doc false
  # The path with every symbolic link resolved (like realpath(3)), or
  # {:error, reason} when a part of it does not exist or links go round.
  @spec real_path(String.t()) :: {:ok, String.t()} | {:error, term()}
  def real_path(path), do: resolve(Path.split(Path.expand(path)), "/", 0)

  defp real_path!(path) do
    case real_path(path) do
      {:ok, real} -> real
      {:error, _} -> Path.expand(path)
    end
  end

  defp resolve(_parts, _done, hops) when hops > @max_link_hops, do: {:error, :eloop}
  defp resolve([], done, _hops), do: {:ok, done}
  defp resolve(["/" | rest], _done, hops), do: resolve(rest, "/", hops)

  defp resolve([part | rest], done, hops) do
    candidate = Path.join(done, part)

    case :file.read_link_all(candidate) do
      {:ok, target} ->
        target = Path.expand(to_string(target), done)
        resolve(Path.split(target) ++ rest, "/", hops + 1)

      {:error, :einval} ->
        # Not a link: it must exist to go on.
        if File.exists?(candidate), do: resolve(rest, candidate, hops), else: {:error, :enoent}

      {:error, reason} ->
        {:error, reason}
    end
  end
end
