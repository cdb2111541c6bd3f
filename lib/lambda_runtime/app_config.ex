defmodule LambdaRuntime.AppConfig do
  @moduledoc """
  The function's own configuration, applied at cold start before any
  application starts: the project's `config/config.exs` (as `mix
  lambda.package` read it) and its `config/runtime.exs`, evaluated here,
  with the function's environment, without Mix.

  `mix lambda.package` (and `mix lambda.invoke`, for a local run) compiles
  both into one module, `LambdaRuntime.AppConfig.Compiled`, written as
  `lambda_runtime/config.beam` at the root of the function package
  (`/var/task/lambda_runtime/config.beam` on Lambda;
  `LambdaRuntime.Tools.Package.AppConfig` builds it). At cold start
  `LambdaRuntime.Bootstrap` loads it and sets the application environment
  of every configured application (`:logger` included) with `persistent:
  true`, as Mix does, so an application's own `.app` defaults never
  override it. `runtime.exs`'s `config` calls are deep-merged over
  `config.exs`'s, as in a release.

  Evaluating `runtime.exs` costs no parser or compiler at cold start: its
  code was compiled when the package was built, into a function of that
  one self-contained module (with `Config`'s `config/2`, `config/3`,
  `config_env/0` and `config_target/0` as its own private functions). The
  cost is measured by `bench/runtime_config/run.sh` (BENCHMARKS.md).

  A package without the file (built by an older `mix lambda.package`) has
  nothing applied. A `runtime.exs` that raises makes the cold start fail
  with `Runtime.ConfigError` (`LambdaRuntime.Runtime` reports it to
  `/runtime/init/error`).
  """

  alias LambdaRuntime.ErrorReport

  @module LambdaRuntime.AppConfig.Compiled
  # It exists only once loaded from a function package.
  @compile {:no_warn_undefined, @module}

  @doc """
  Where the compiled configuration is, relative to `LAMBDA_TASK_ROOT`
  (`LambdaRuntime.Bootstrap` names the same path).
  """
  @spec relative_path() :: String.t()
  def relative_path, do: "lambda_runtime/config.beam"

  @doc "The name of the compiled configuration module."
  @spec module() :: module()
  def module, do: @module

  @doc """
  Loads the compiled configuration under `task_root` and evaluates it:
  `:none` when there is none, `{:ok, config}` (a keyword list of
  applications and their keyword lists), or `{:error, report}`.
  """
  @spec load(String.t()) :: :none | {:ok, keyword()} | {:error, ErrorReport.t()}
  def load(task_root) do
    path = task_root <> "/" <> relative_path()

    case :file.read_file(path) do
      {:ok, beam} ->
        case :code.load_binary(@module, :unicode.characters_to_list(path), beam) do
          {:module, @module} -> evaluate(path)
          {:error, reason} -> {:error, error("cannot load #{path} (#{inspect(reason)})")}
        end

      {:error, :enoent} ->
        :none

      {:error, reason} ->
        {:error, error("cannot read #{path}: #{:file.format_error(reason)}")}
    end
  end

  defp evaluate(path) do
    try do
      @module.config()
    catch
      kind, reason ->
        caught = ErrorReport.from_caught(kind, reason, __STACKTRACE__)
        runtime_path = @module.info().runtime_path

        {:error,
         %{
           caught
           | type: "Runtime.ConfigError",
             message: "#{runtime_path} failed: #{caught.type}: #{caught.message}"
         }}
    else
      config when is_list(config) -> {:ok, config}
      other -> {:error, error("#{path} gave #{inspect(other)}, not a keyword list")}
    end
  end

  @doc """
  Sets `config` as the application environment, `persistent: true` (a
  later load of an application's `.app` file keeps these values).
  """
  @spec apply_config(keyword()) :: :ok
  def apply_config([]), do: :ok
  def apply_config(config), do: :application.set_env(config, persistent: true)

  defp error(message), do: ErrorReport.new("Runtime.ConfigError", message)
end
