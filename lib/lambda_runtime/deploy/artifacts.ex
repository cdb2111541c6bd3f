defmodule LambdaRuntime.Deploy.Artifacts do
  @moduledoc """
  Finds the zips to upload: the path given with `--zip`/`--layer-zip`, or
  the one the project's build task writes (`mix lambda.package` for the
  function, `mix lambda.layer` for the runtime layer). A build task is run
  with `Mix.Task.rerun/2` and must return the zip's path (or `{:ok, path}`).
  """

  @doc "Reads the zip at `path`, or builds one with `task`; returns its path and bytes."
  @spec fetch(String.t() | nil, String.t(), String.t()) ::
          {:ok, Path.t(), binary()} | {:error, String.t()}
  def fetch(nil, task, flag) do
    if Mix.Task.get(task) do
      case Mix.Task.rerun(task, []) do
        path when is_binary(path) ->
          read(path, "mix #{task}")

        {:ok, path} when is_binary(path) ->
          read(path, "mix #{task}")

        other ->
          {:error,
           "mix #{task} did not return a zip path (got #{inspect(other)}); pass #{flag} PATH"}
      end
    else
      {:error, "no zip to upload: pass #{flag} PATH (mix #{task} is not available here)"}
    end
  end

  def fetch(path, _task, flag), do: read(path, flag)

  defp read(path, source) do
    case File.read(path) do
      {:ok, <<"PK", _::binary>> = zip} ->
        {:ok, path, zip}

      {:ok, _} ->
        {:error, "#{path} (from #{source}) is not a zip file"}

      {:error, reason} ->
        {:error, "cannot read #{path} (from #{source}): #{:file.format_error(reason)}"}
    end
  end
end
