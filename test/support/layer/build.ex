defmodule LambdaRuntime.TestSupport.Build do
  @moduledoc """
  Running the real build tasks from tests and reading what they wrote:
  `mix` in a project directory with `MIX_ENV=prod` and a build root of
  the test's own, unzipping, and listing a zip's entries.
  """

  @doc """
  Runs `mix args` in `dir` with `MIX_ENV=prod` and `MIX_BUILD_ROOT` set to
  `build_root`; returns its output or raises with it.
  """
  @spec mix!(Path.t(), Path.t(), [String.t()]) :: String.t()
  def mix!(dir, build_root, args) do
    env = [{"MIX_ENV", "prod"}, {"MIX_BUILD_ROOT", build_root}]
    {output, status} = System.cmd("mix", args, cd: dir, env: env, stderr_to_stdout: true)

    if status != 0,
      do: raise("mix #{Enum.join(args, " ")} failed in #{dir} (exit #{status}):\n#{output}")

    output
  end

  @doc "Unzips `zip` into `dest` (with unzip, as Lambda keeps modes); returns `dest`."
  @spec unzip!(Path.t(), Path.t()) :: Path.t()
  def unzip!(zip, dest) do
    {output, status} = System.cmd("unzip", ["-q", zip, "-d", dest], stderr_to_stdout: true)
    if status != 0, do: raise("unzip #{zip} failed:\n#{output}")
    dest
  end

  @doc "The file entries of a zip (directories left out)."
  @spec zip_names(Path.t()) :: [String.t()]
  def zip_names(zip) do
    {:ok, [_comment | entries]} = :zip.list_dir(String.to_charlist(zip))
    for {:zip_file, name, _, _, _, _} <- entries, List.last(name) != ?/, do: to_string(name)
  end
end
