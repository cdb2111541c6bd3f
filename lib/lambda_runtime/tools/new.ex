defmodule LambdaRuntime.Tools.New do
  @moduledoc """
  Generates a new function project (what `mix lambda.new` runs): a Mix
  project that depends on lambda_runtime, with a handler, its ExUnit test
  (`LambdaRuntime.Test`), a sample event, the `lambda:` settings the
  `lambda.*` tasks read, `config/`, an AWS SAM template and a README.

  Kinds: `:basic` (a JSON function), `:http` (behind an API Gateway HTTP
  API, typed events and `LambdaRuntime.HTTPResponse`), `:sqs` (an SQS
  consumer reporting partial batch failures, `LambdaRuntime.BatchResponse`).
  The files come from `LambdaRuntime.Tools.New.Templates` and
  `LambdaRuntime.Tools.New.Handlers`.
  """

  alias LambdaRuntime.Tools.New.{Handlers, Templates}

  @kinds [:basic, :http, :sqs]

  defstruct [:path, :app, :module, :kind, :dep]

  @type t :: %__MODULE__{
          path: Path.t(),
          app: String.t(),
          module: String.t(),
          kind: :basic | :http | :sqs,
          dep: String.t()
        }

  @doc """
  The options of `new/2` from `mix lambda.new`'s flags: `:http` and
  `:sqs` (at most one) give the kind; `:dep` is `path:DIR`,
  `github:OWNER/REPO` or `hex`; `:app` and `:module` pass through.
  """
  @spec options(keyword()) :: {:ok, keyword()} | {:error, String.t()}
  def options(flags) do
    kind =
      case {flags[:http], flags[:sqs]} do
        {true, true} -> {:error, "choose one of --http and --sqs"}
        {true, _} -> {:ok, :http}
        {_, true} -> {:ok, :sqs}
        _ -> {:ok, :basic}
      end

    with {:ok, kind} <- kind,
         {:ok, dep} <- parse_dep(flags[:dep]) do
      {:ok, [kind: kind, app: flags[:app], module: flags[:module], dep: dep]}
    end
  end

  defp parse_dep(nil), do: {:ok, nil}
  defp parse_dep("hex"), do: {:ok, :hex}
  defp parse_dep("path:" <> dir) when dir != "", do: {:ok, {:path, dir}}
  defp parse_dep("github:" <> repo) when repo != "", do: {:ok, {:github, repo}}

  defp parse_dep(other),
    do: {:error, "--dep #{inspect(other)}: use path:DIR, github:OWNER/REPO or hex"}

  @doc """
  Checks the settings. `path` is where the project goes (its last segment
  is the app name unless `:app` is given); options: `:app`, `:module`,
  `:kind`, `:dep` (`{:path, dir}`, `{:github, "owner/repo"}` or `:hex`).
  """
  @spec new(Path.t(), keyword()) :: {:ok, t()} | {:error, String.t()}
  def new(path, opts) do
    app = opts[:app] || Path.basename(Path.expand(path))
    module = opts[:module] || Macro.camelize(app)
    kind = opts[:kind] || :basic

    cond do
      not Regex.match?(~r/^[a-z][a-z0-9_]*$/, app) ->
        {:error,
         "#{inspect(app)} is not a valid application name: use lower-case letters, digits and " <>
           "underscores, starting with a letter (e.g. hello_orders), or pass --app NAME"}

      app in ~w(lambda_runtime elixir kernel stdlib logger mix eex ex_unit iex compiler) ->
        {:error,
         "#{inspect(app)} is taken by an application the function needs; choose another name"}

      not Regex.match?(~r/^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$/, module) ->
        {:error, "#{inspect(module)} is not a valid module name (e.g. HelloOrders), see --module"}

      kind not in @kinds ->
        {:error, "unknown kind #{inspect(kind)}; the kinds are #{inspect(@kinds)}"}

      true ->
        {:ok,
         %__MODULE__{
           path: Path.expand(path),
           app: app,
           module: module,
           kind: kind,
           dep: dep(opts[:dep] || {:path, LambdaRuntime.Tools.source_root()})
         }}
    end
  end

  # The dependency line of the generated mix.exs.
  defp dep({:path, dir}), do: "{:lambda_runtime, path: #{inspect(Path.expand(dir))}}"
  defp dep({:github, repo}), do: "{:lambda_runtime, github: #{inspect(repo)}}"
  defp dep(:hex), do: "{:lambda_runtime, \"~> #{runtime_version()}\"}"

  defp runtime_version do
    Application.load(:lambda_runtime)
    vsn = Application.spec(:lambda_runtime, :vsn) |> to_string()
    vsn |> Version.parse!() |> then(&"#{&1.major}.#{&1.minor}")
  end

  @doc "The files of the project, `[{relative_path, content}]`."
  @spec files(t()) :: [{Path.t(), String.t()}]
  def files(%__MODULE__{} = project) do
    for {path, content} <- Templates.files(project) ++ Handlers.files(project),
        do: {path, format(path, content)}
  end

  # Elixir files as this Elixir's formatter writes them, whatever the
  # length of the names put into them.
  defp format(path, content) do
    if Path.extname(path) in [".ex", ".exs"],
      do: IO.iodata_to_binary([Code.format_string!(content), ?\n]),
      else: content
  end

  @doc """
  Writes the project. Refuses a directory that exists and is not empty,
  unless `force: true`. Returns the paths written.
  """
  @spec write(t(), keyword()) :: {:ok, [Path.t()]} | {:error, String.t()}
  def write(%__MODULE__{path: path} = project, opts \\ []) do
    if File.dir?(path) and File.ls!(path) != [] and not Keyword.get(opts, :force, false) do
      {:error,
       "#{path} exists and is not empty; choose another path, or pass --force to write into it"}
    else
      written =
        for {rel, content} <- files(project) do
          dest = Path.join(path, rel)
          File.mkdir_p!(Path.dirname(dest))
          File.write!(dest, content)
          rel
        end

      {:ok, written}
    end
  end

  @doc "What to do next with the project written at `path`, for the task to print."
  @spec next_steps(t(), Path.t()) :: String.t()
  def next_steps(%__MODULE__{module: module}, path) do
    """

    Your function #{module} is in #{path}. Next:

        cd #{path}
        mix test                                      # its tests
        mix lambda.invoke --event events/event.json   # run it as Lambda does
        MIX_ENV=prod mix lambda.package               # the function zip
        mix lambda.doctor                             # what deploying needs
    """
  end
end
