defmodule LambdaRuntime.Tools.Settings do
  @moduledoc """
  The function's settings for the `lambda.*` tasks: the `lambda:` key of
  `project/0` in the project's `mix.exs`, with command-line flags on top.

      def project do
        [
          app: :hello,
          # ...
          lambda: [
            function_name: "hello",
            handler: "Hello.handle",
            role: "arn:aws:iam::123456789012:role/hello-lambda",
            memory_size: 512,
            timeout: 30,
            architecture: "x86_64",
            environment: %{"LOG_LEVEL" => "info"},
            layers: [],
            description: "Says hello",
            region: "eu-west-1"
          ]
        ]
      end

  Keys (each also a flag, e.g. `--memory-size 1024`):

    * `:function_name` - default: the app name
    * `:handler` - `Module.function` or `Module` (required)
    * `:role` - the execution role's ARN (required to create the function)
    * `:memory_size` - MB, 128..10240, default 512
    * `:timeout` - seconds, 1..900, default 30
    * `:architecture` - `"x86_64"` or `"arm64"`; default: the runtime
      layer's (its manifest says which), else `"x86_64"`. A runtime layer
      zip built for the other architecture is refused.
    * `:environment` - a map of string names to string values
      (`--env NAME=VALUE`, repeatable, adds to or overrides the map)
    * `:layers` - extra layer version ARNs, after the runtime layer
      (`--layer ARN`, repeatable, replaces the list)
    * `:description` - up to 256 characters
    * `:region` - the AWS region (else `AWS_REGION` and the rest)
    * `:layer_name` - the runtime layer's name, default `"elixir-runtime"`
    * `:layer_arn` - use this runtime layer version instead of publishing one
    * `:durable` - makes the function a durable function
      (`LambdaRuntime.Durable`): `[execution_timeout: SECONDS]` (1 to
      31622400, i.e. 366 days; required), `retention_period_in_days:`
      (1 to 90, default 14) and `kms_key_arn:`. Lambda enables durable
      execution only when it creates a function: deploying it to an
      existing plain function is refused before anything is uploaded.

  Unknown keys and bad values are errors that name the key (and the key a
  misspelt one resembles) and the accepted values. Every task that reads
  the `lambda:` key reads it through `load/3` (see
  `LambdaRuntime.Tools.CLI.settings!/2`).
  """

  alias LambdaRuntime.AWS.Endpoint

  @keys [
    :function_name,
    :handler,
    :role,
    :memory_size,
    :timeout,
    :architecture,
    :environment,
    :layers,
    :description,
    :region,
    :layer_name,
    :layer_arn,
    :durable
  ]

  defstruct function_name: nil,
            handler: nil,
            role: nil,
            memory_size: 512,
            timeout: 30,
            architecture: nil,
            environment: %{},
            layers: [],
            description: nil,
            region: nil,
            layer_name: "elixir-runtime",
            layer_arn: nil,
            durable: nil

  @type t :: %__MODULE__{}

  @role ~r/^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/
  @layer_arn ~r/^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[\w-]+:\d+$/
  @name ~r/^[\w-]{1,64}$/
  @layer_name ~r/^[\w-]{1,140}$/
  @env_name ~r/^[a-zA-Z]\w*$/

  @doc "The keys the `lambda:` config accepts."
  def keys, do: @keys

  @doc """
  Builds the settings from the `lambda:` config (`project_config[:lambda]`)
  and parsed flags (`:env` and `:layer` may repeat). `app` names the
  default function.
  """
  @spec load(keyword(), keyword(), atom() | nil) :: {:ok, t()} | {:error, String.t()}
  def load(project_config, flags, app \\ nil) do
    with {:ok, base} <- lambda_keyword(project_config[:lambda]),
         :ok <- known_keys(base),
         {:ok, env_flags} <- env_flags(Keyword.get_values(flags, :env)) do
      merged =
        base
        |> Keyword.merge(Keyword.take(flags, @keys -- [:environment, :layers]))
        |> merge_env(env_flags)
        |> merge_layers(Keyword.get_values(flags, :layer))

      config = struct(__MODULE__, merged)
      config = %{config | function_name: config.function_name || (app && to_string(app))}
      validate(config)
    end
  end

  @doc "Checks that the settings name a handler, which a function deploy needs."
  @spec require_handler(t()) :: :ok | {:error, String.t()}
  def require_handler(%__MODULE__{handler: nil}) do
    {:error,
     "handler is required: set lambda: [handler: \"Hello.handle\"] in mix.exs or pass --handler"}
  end

  def require_handler(%__MODULE__{}), do: :ok

  defp lambda_keyword(nil), do: {:ok, []}

  defp lambda_keyword(list) when is_list(list) do
    if Keyword.keyword?(list),
      do: {:ok, list},
      else: {:error, "the lambda: config in mix.exs must be a keyword list, got #{inspect(list)}"}
  end

  defp lambda_keyword(other),
    do: {:error, "the lambda: config in mix.exs must be a keyword list, got #{inspect(other)}"}

  defp known_keys(base) do
    case Enum.reject(Keyword.keys(base), &(&1 in @keys)) do
      [] ->
        :ok

      [key | _] ->
        {:error,
         "unknown key #{inspect(key)} in the lambda: config of mix.exs#{suggestion(key)}; " <>
           "the known keys are #{Enum.map_join(@keys, ", ", &inspect/1)}"}
    end
  end

  # A misspelt key (`hanlder:`) is named with the key it resembles.
  defp suggestion(key) do
    name = to_string(key)

    case Enum.max_by(@keys, &String.jaro_distance(name, to_string(&1))) do
      best ->
        if String.jaro_distance(name, to_string(best)) > 0.8,
          do: " (did you mean #{inspect(best)}?)",
          else: ""
    end
  end

  defp env_flags(pairs) do
    Enum.reduce_while(pairs, {:ok, %{}}, fn pair, {:ok, acc} ->
      case String.split(pair, "=", parts: 2) do
        [name, value] when name != "" -> {:cont, {:ok, Map.put(acc, name, value)}}
        _ -> {:halt, {:error, "--env takes NAME=VALUE, got #{inspect(pair)}"}}
      end
    end)
  end

  defp merge_env(config, flags) when flags == %{}, do: config

  defp merge_env(config, flags) do
    base = Keyword.get(config, :environment, %{})
    base = if is_map(base), do: base, else: %{}
    Keyword.put(config, :environment, Map.merge(base, flags))
  end

  defp merge_layers(config, []), do: config
  defp merge_layers(config, layers), do: Keyword.put(config, :layers, layers)

  defp validate(config) do
    checks = [
      {:function_name, &matches?(@name, &1),
       "must be 1-64 letters, digits, hyphens or underscores"},
      {:handler, &(is_nil(&1) or (is_binary(&1) and &1 != "")),
       "must be the Module.function (or Module) Lambda calls, e.g. \"Hello.handle\""},
      {:role, &(is_nil(&1) or matches?(@role, &1)),
       "must be an IAM role ARN like arn:aws:iam::123456789012:role/NAME"},
      {:memory_size, &(is_integer(&1) and &1 in 128..10_240),
       "must be an integer number of MB from 128 to 10240"},
      {:timeout, &(is_integer(&1) and &1 in 1..900),
       "must be an integer number of seconds from 1 to 900"},
      {:architecture, &(&1 in [nil, "x86_64", "arm64"]), "must be \"x86_64\" or \"arm64\""},
      {:environment, &valid_env?/1,
       "must be a map of names (letters, digits, _; starting with a letter) to string values"},
      {:layers, &(is_list(&1) and Enum.all?(&1, fn arn -> matches?(@layer_arn, arn) end)),
       "must be a list of layer version ARNs like arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"},
      {:description, &(is_nil(&1) or (is_binary(&1) and String.length(&1) <= 256)),
       "must be a string of at most 256 characters"},
      {:region, &(is_nil(&1) or Endpoint.valid_region?(&1)),
       "must be an AWS region name such as us-east-1 or eu-west-1"},
      {:layer_name, &matches?(@layer_name, &1),
       "must be 1-140 letters, digits, hyphens or underscores"},
      {:layer_arn, &(is_nil(&1) or matches?(@layer_arn, &1)),
       "must be a layer version ARN like arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION"},
      {:durable, &valid_durable?/1,
       "must be a keyword list: execution_timeout: 1..31622400 seconds (required), " <>
         "retention_period_in_days: 1..90 (default 14), kms_key_arn: a KMS key ARN"}
    ]

    config = %{
      config
      | architecture: normalize_arch(config.architecture),
        environment: normalize_env(config.environment)
    }

    case Enum.find(checks, fn {key, ok?, _} -> not ok?.(Map.fetch!(config, key)) end) do
      nil ->
        if length(config.layers) > 4,
          do: {:error, "layers: at most 4 extra layers (Lambda allows 5, one is the runtime)"},
          else: {:ok, config}

      {key, _, sentence} ->
        {:error, "#{key} #{sentence}; got #{inspect(Map.fetch!(config, key))}"}
    end
  end

  defp matches?(regex, value), do: is_binary(value) and Regex.match?(regex, value)

  @kms_key ~r/^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/

  defp valid_durable?(nil), do: true

  defp valid_durable?(durable) when is_list(durable) do
    Keyword.keyword?(durable) and
      Enum.all?(
        Keyword.keys(durable),
        &(&1 in [:execution_timeout, :retention_period_in_days, :kms_key_arn])
      ) and
      is_integer(durable[:execution_timeout]) and durable[:execution_timeout] in 1..31_622_400 and
      (is_nil(durable[:retention_period_in_days]) or
         (is_integer(durable[:retention_period_in_days]) and
            durable[:retention_period_in_days] in 1..90)) and
      (is_nil(durable[:kms_key_arn]) or matches?(@kms_key, durable[:kms_key_arn]))
  end

  defp valid_durable?(_), do: false

  defp normalize_arch(arch) when is_atom(arch) and not is_nil(arch), do: Atom.to_string(arch)
  defp normalize_arch(arch), do: arch

  defp normalize_env(env) when is_map(env),
    do: Map.new(env, fn {k, v} -> {if(is_atom(k), do: Atom.to_string(k), else: k), v} end)

  defp normalize_env(env), do: env

  defp valid_env?(env) when is_map(env) do
    Enum.all?(env, fn {k, v} -> is_binary(k) and Regex.match?(@env_name, k) and is_binary(v) end)
  end

  defp valid_env?(_), do: false
end
