defmodule LambdaRuntime.AppConfig.DSL do
  @moduledoc """
  What `import Config` means inside a `config/runtime.exs` compiled by
  `mix lambda.package` (see `LambdaRuntime.AppConfig`): the same
  `config/2`, `config/3`, `config_env/0` and `config_target/0` as Elixir's
  `Config`, keeping their state in the evaluating process for the length of
  `run/3`. `config_env/0` is the Mix environment the package was built in,
  as in a release. `import_config/1` is refused when the package is built,
  as releases refuse it in `runtime.exs`.
  """

  @config {__MODULE__, :config}
  @env {__MODULE__, :env}

  @doc false
  # Runs a compiled runtime.exs body with `env` and `target`; returns the
  # configuration its `config` calls built.
  @spec run(atom(), atom(), (... -> term())) :: keyword()
  def run(env, target, body) do
    Process.put(@config, [])
    Process.put(@env, {env, target})

    try do
      body.()
      Process.get(@config)
    after
      Process.delete(@config)
      Process.delete(@env)
    end
  end

  @doc "Like `Config.config/2`: deep-merges `opts` into `root_key`'s configuration."
  @spec config(atom(), keyword()) :: :ok
  def config(root_key, opts) when is_atom(root_key) and is_list(opts) do
    unless Keyword.keyword?(opts) do
      raise ArgumentError, "config/2 expected a keyword list, got: #{inspect(opts)}"
    end

    put([{root_key, opts}])
  end

  @doc "Like `Config.config/3`: deep-merges `opts` under `key` of `root_key`."
  @spec config(atom(), atom(), term()) :: :ok
  def config(root_key, key, opts) when is_atom(root_key) and is_atom(key),
    do: put([{root_key, [{key, opts}]}])

  @doc "The Mix environment the package was built in (`:prod`)."
  @spec config_env() :: atom()
  def config_env, do: elem(state!(), 0)

  @doc "The Mix target the package was built for (`:host`)."
  @spec config_target() :: atom()
  def config_target, do: elem(state!(), 1)

  @doc false
  defmacro import_config(_file) do
    raise ArgumentError,
          "import_config/1 is not available in config/runtime.exs on Lambda " <>
            "(as in a release): put the configuration in runtime.exs itself"
  end

  defp put(config) do
    current = Process.get(@config) || raise_improper_use!()
    Process.put(@config, LambdaRuntime.AppConfig.merge(current, config))
    :ok
  end

  defp state!, do: Process.get(@env) || raise_improper_use!()

  defp raise_improper_use! do
    raise "could not set configuration: config/2 and config/3 run only while " <>
            "LambdaRuntime.AppConfig evaluates config/runtime.exs"
  end
end
