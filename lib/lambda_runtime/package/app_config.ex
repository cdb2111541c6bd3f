defmodule LambdaRuntime.Package.AppConfig do
  @moduledoc """
  Builds the function's configuration module, `lambda_runtime/config.beam`
  in the function package (what `LambdaRuntime.AppConfig` applies at cold
  start), from a project's config files:

    * `config/config.exs` (and what it imports), read now with
      `Config.Reader` for the Mix environment and target, kept as data;
    * `config/runtime.exs`, compiled now into a function that runs at cold
      start with the function's environment: `import Config` becomes
      `import LambdaRuntime.AppConfig.DSL`. It is refused when it mentions
      `Mix` (there is no Mix on Lambda; use `config_env/0`) or calls
      `import_config/1`.

  Used by `mix lambda.package` and, for local runs, `mix lambda.invoke`.
  """

  alias LambdaRuntime.AppConfig

  @doc """
  The configuration files of the Mix project whose `project/0` is
  `project_config`: `{config_exs, runtime_exs}`, each a path or `nil`.
  """
  @spec files(keyword()) :: {String.t() | nil, String.t() | nil}
  def files(project_config) do
    config = project_config[:config_path] || "config/config.exs"
    runtime = Path.join(Path.dirname(config), "runtime.exs")
    {existing(config), existing(runtime)}
  end

  defp existing(path), do: if(File.regular?(path), do: path)

  @doc """
  Compiles the module. Options: `:config_path` and `:runtime_path` (either
  may be nil), `:env` and `:target` (the Mix environment and target).
  Returns `{:ok, beam}` or `{:error, message}`.
  """
  @spec build(keyword()) :: {:ok, binary()} | {:error, String.t()}
  def build(opts) do
    env = Keyword.fetch!(opts, :env)
    target = Keyword.get(opts, :target, :host)

    with {:ok, build_config} <- read_config(opts[:config_path], env, target),
         {:ok, body} <- runtime_body(opts[:runtime_path]) do
      compile(build_config, body, env, target, opts[:runtime_path] || "config/runtime.exs")
    end
  end

  @doc """
  Writes the module to `dest` (`TASK_ROOT/lambda_runtime/config.beam`), or
  removes a stale one when the project has no config files. Raises
  `Mix.Error` with the reason when a file cannot be compiled.
  """
  @spec write!(String.t(), keyword()) :: :ok
  def write!(dest, opts) do
    if opts[:config_path] || opts[:runtime_path] do
      case build(opts) do
        {:ok, beam} ->
          File.mkdir_p!(Path.dirname(dest))
          File.write!(dest, beam)

        {:error, message} ->
          Mix.raise(message)
      end
    else
      File.rm(dest)
    end

    :ok
  end

  @doc """
  For a local run of the current Mix project (`mix lambda.invoke`): writes
  its configuration module under `task_root` (the project's build
  directory, `LAMBDA_TASK_ROOT` of the run), as the package would hold it.
  """
  @spec write_project!(String.t()) :: :ok
  def write_project!(task_root) do
    {config_path, runtime_path} = files(Mix.Project.config())

    write!(Path.join(task_root, AppConfig.relative_path()),
      config_path: config_path,
      runtime_path: runtime_path,
      env: Mix.env(),
      target: Mix.target()
    )
  end

  defp read_config(nil, _env, _target), do: {:ok, []}

  defp read_config(path, env, target) do
    {:ok, Config.Reader.read!(path, env: env, target: target)}
  rescue
    e -> {:error, "cannot read #{path}: #{Exception.message(e)}"}
  end

  defp runtime_body(nil), do: {:ok, nil}

  defp runtime_body(path) do
    with {:ok, text} <- File.read(path),
         {:ok, quoted} <- Code.string_to_quoted(text, file: path, columns: true),
         :ok <- refuse_mix(quoted, path) do
      {:ok, {Macro.prewalk(quoted, &config_import/1), path}}
    else
      {:error, {meta, message, token}} when is_list(meta) ->
        {:error, "#{path}:#{meta[:line]}: #{inspect_message(message)}#{token}"}

      {:error, reason} when is_atom(reason) ->
        {:error, "cannot read #{path}: #{:file.format_error(reason)}"}

      {:error, message} ->
        {:error, message}
    end
  end

  defp inspect_message({prefix, suffix}), do: prefix <> suffix
  defp inspect_message(message), do: message

  # `import Config` (with or without options) imports the DSL instead.
  defp config_import({:import, meta, [{:__aliases__, alias_meta, [:Config]} | rest]}),
    do: {:import, meta, [{:__aliases__, alias_meta, [:LambdaRuntime, :AppConfig, :DSL]} | rest]}

  defp config_import(node), do: node

  defp refuse_mix(quoted, path) do
    {_, lines} =
      Macro.prewalk(quoted, [], fn
        {:__aliases__, meta, [:Mix | _]} = node, acc -> {node, [meta[:line] | acc]}
        node, acc -> {node, acc}
      end)

    case Enum.sort(lines) do
      [] ->
        :ok

      [line | _] ->
        {:error,
         "#{path}:#{line}: runtime.exs uses Mix, which does not exist on Lambda " <>
           "(nor in a release): use config_env/0 instead of Mix.env/0"}
    end
  end

  defp compile(build_config, body, env, target, runtime_path) do
    runtime_config =
      case body do
        nil ->
          []

        {quoted, _path} ->
          quote do
            LambdaRuntime.AppConfig.DSL.run(unquote(env), unquote(target), fn ->
              unquote(quoted)
            end)
          end
      end

    module =
      quote do
        defmodule unquote(AppConfig.module()) do
          @moduledoc false
          def build_config, do: unquote(Macro.escape(build_config))
          def runtime_config, do: unquote(runtime_config)

          def info,
            do: %{env: unquote(env), target: unquote(target), runtime_path: unquote(runtime_path)}
        end
      end

    # Compiling loads the module here too: it is unloaded again, and a
    # second build in the same VM (tests, --repeat) is no conflict.
    previous = Code.get_compiler_option(:ignore_module_conflict)
    Code.put_compiler_option(:ignore_module_conflict, true)

    try do
      [{mod, beam} | _] = Code.compile_quoted(module, runtime_path)
      :code.delete(mod)
      :code.purge(mod)
      {:ok, {^mod, stripped}} = :beam_lib.strip(beam)
      {:ok, stripped}
    rescue
      e -> {:error, "cannot compile #{runtime_path}: #{Exception.message(e)}"}
    after
      Code.put_compiler_option(:ignore_module_conflict, previous)
    end
  end
end
