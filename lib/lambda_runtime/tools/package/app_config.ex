defmodule LambdaRuntime.Tools.Package.AppConfig do
  @moduledoc """
  Builds the function's configuration module, `lambda_runtime/config.beam`
  in the function package (what `LambdaRuntime.AppConfig` applies at cold
  start), from a project's config files:

    * `config/config.exs` (and what it imports), read now with
      `Config.Reader` for the Mix environment and target, kept as data;
    * `config/runtime.exs`, compiled now into a function that runs at cold
      start with the function's environment. The module is self-contained:
      `Config`'s `config/2`, `config/3`, `config_env/0` and
      `config_target/0` are private functions of it (`import Config` is
      dropped), with `Config`'s semantics (keyword lists deep-merged, over
      `config.exs`'s; `config_env/0` is the Mix environment the package is
      built in, as in a release), so that a cold start loads this one module
      and nothing of a parser, compiler or Mix. It is refused when it
      mentions `Mix` (there is no Mix on Lambda; use `config_env/0`) or
      calls `import_config/1` (releases refuse it in `runtime.exs` too).

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
         :ok <- refuse(quoted, path) do
      {:ok, {Macro.prewalk(quoted, &local_config/1), path}}
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

  @config_functions [:config, :config_env, :config_target]

  # `import Config` is dropped and `Config.config(...)` made local: the
  # module defines them itself.
  defp local_config({:import, meta, [{:__aliases__, _, [:Config]} | _]}),
    do: {:__block__, meta, []}

  defp local_config({{:., _, [{:__aliases__, _, [:Config]}, fun]}, meta, args})
       when fun in @config_functions,
       do: {fun, meta, args}

  defp local_config(node), do: node

  defp refuse(quoted, path) do
    {_, found} =
      Macro.prewalk(quoted, [], fn
        {:__aliases__, meta, [:Mix | _]} = node, acc ->
          {node,
           [
             {meta[:line],
              "uses Mix, which does not exist on Lambda (nor in a release): " <>
                "use config_env/0 instead of Mix.env/0"}
             | acc
           ]}

        {:import_config, meta, [_]} = node, acc ->
          {node,
           [
             {meta[:line],
              "calls import_config/1, which is not available in " <>
                "config/runtime.exs on Lambda (as in a release): put the configuration " <>
                "in runtime.exs itself"}
             | acc
           ]}

        node, acc ->
          {node, acc}
      end)

    case Enum.sort(found) do
      [] -> :ok
      [{line, why} | _] -> {:error, "#{path}:#{line}: runtime.exs #{why}"}
    end
  end

  defp compile(build_config, body, env, target, runtime_path) do
    quoted_body =
      case body do
        nil -> nil
        {quoted, _path} -> quoted
      end

    module =
      quote do
        defmodule unquote(AppConfig.module()) do
          @moduledoc false
          # Config's semantics; only what runtime.exs calls is used.
          @compile {:nowarn_unused_function,
                    [
                      config: 2,
                      config: 3,
                      config_env: 0,
                      config_target: 0,
                      put: 1,
                      merge: 2,
                      deep_merge: 3
                    ]}
          @state {__MODULE__, :config}

          def info,
            do: %{env: unquote(env), target: unquote(target), runtime_path: unquote(runtime_path)}

          # config.exs as read when the package was built, with runtime.exs's
          # config calls deep-merged over it as they run.
          def config do
            :erlang.put(@state, unquote(Macro.escape(build_config)))

            try do
              unquote(quoted_body)
              :erlang.get(@state)
            after
              :erlang.erase(@state)
            end
          end

          defp config(root_key, opts) when is_atom(root_key) and is_list(opts) do
            unless Keyword.keyword?(opts) do
              raise ArgumentError, "config/2 expected a keyword list, got: #{inspect(opts)}"
            end

            put([{root_key, opts}])
          end

          defp config(root_key, key, opts) when is_atom(root_key) and is_atom(key),
            do: put([{root_key, [{key, opts}]}])

          defp config_env, do: unquote(env)
          defp config_target, do: unquote(target)

          defp put(config) do
            :erlang.put(@state, merge(:erlang.get(@state), config))
            :ok
          end

          defp merge(config1, config2) do
            Keyword.merge(config1, config2, fn _app, app1, app2 ->
              Keyword.merge(app1, app2, &deep_merge/3)
            end)
          end

          defp deep_merge(_key, value1, value2) do
            if Keyword.keyword?(value1) and Keyword.keyword?(value2),
              do: Keyword.merge(value1, value2, &deep_merge/3),
              else: value2
          end
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
