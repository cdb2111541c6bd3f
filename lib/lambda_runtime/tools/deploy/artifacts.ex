defmodule LambdaRuntime.Tools.Deploy.Artifacts do
  @moduledoc """
  Finds the zips to upload: the path given with `--zip`/`--layer-zip`, or
  the one the project's build task writes (`mix lambda.package` for the
  function, `mix lambda.layer` for the runtime layer). A build task is run
  with `Mix.Task.rerun/2` and `--output` set to the task's own default path
  (`_build/lambda/layer.zip`, `_build/lambda/APP.zip`; under
  `MIX_BUILD_ROOT` when set); when it returns a path (or `{:ok, path}`),
  that path is used instead.
  """

  @doc """
  Reads the zip at `path`, or builds one with `task` (given `task_args`
  after `--output OUTPUT`, where `output` defaults to the task's own
  default path); returns its path and bytes.
  """
  @spec fetch(String.t() | nil, String.t(), String.t(), [String.t()], Path.t() | nil) ::
          {:ok, Path.t(), binary()} | {:error, String.t()}
  def fetch(path, task, flag, task_args \\ [], output \\ nil)

  def fetch(nil, task, flag, task_args, output) do
    if Mix.Task.get(task) do
      output = output || default_output(task)
      Mix.shell().info("Building #{output} with mix #{task}")

      case Mix.Task.rerun(task, ["--output", output | task_args]) do
        {:ok, path} when is_binary(path) -> read(path, "mix #{task}")
        path when is_binary(path) -> read(path, "mix #{task}")
        _ -> read(output, "mix #{task}")
      end
    else
      {:error, "no zip to upload: pass #{flag} PATH (mix #{task} is not available here)"}
    end
  end

  def fetch(path, _task, flag, _task_args, _output), do: read(path, flag)

  @doc """
  Where a build task is asked to write its zip, its own default:
  `_build/lambda/layer.zip` or `_build/lambda/APP.zip`.
  """
  @spec default_output(String.t()) :: Path.t()
  def default_output(task) do
    name = if task == "lambda.layer", do: "layer.zip", else: "#{Mix.Project.config()[:app]}.zip"
    Path.join([Path.dirname(Mix.Project.build_path()), "lambda", name])
  end

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
