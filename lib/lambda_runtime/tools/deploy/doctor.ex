defmodule LambdaRuntime.Tools.Deploy.Doctor do
  @moduledoc """
  What `mix lambda.doctor` checks, in order, before a user tries anything:
  this machine's Elixir and OTP (and what the layer will carry), the
  runtime's NIF, the handler, the layer's tool chain and cache, the layer
  zip and the architecture, credentials, region and role; with `online:
  true` also the function as Lambda has it.

  Each check is a `LambdaRuntime.Tools.Deploy.Doctor.Check`: `:ok`, `:info`,
  `:warn` (works, but look), or `:error` (a deploy would fail), with the
  exact fix. The checks live in `Doctor.Local` (this machine) and
  `Doctor.Remote` (AWS settings and the function); none prints or returns
  a secret.
  """

  alias LambdaRuntime.Tools.Settings
  alias LambdaRuntime.Tools.Deploy.Doctor.{Check, Local, Remote}

  @doc """
  Runs every check. Options: `:project` (the Mix project config),
  `:flags` (`lambda:` overrides: `:architecture`, `:region`, ...),
  `:profile`, `:layer_zip`, `:online`, `:env` (default: the process's).
  """
  @spec run(keyword()) :: [Check.t()]
  def run(opts) do
    project = Keyword.fetch!(opts, :project)
    env = Keyword.get_lazy(opts, :env, &System.get_env/0)

    {config, config_check} =
      case Settings.load(project, Keyword.get(opts, :flags, []), project[:app]) do
        {:ok, config} ->
          {config,
           Check.ok(
             "lambda: config",
             "function #{config.function_name}, #{config.memory_size} MB, #{config.timeout} s"
           )}

        {:error, message} ->
          {nil,
           Check.error(
             "lambda: config",
             message,
             "fix the lambda: key in mix.exs (mix help lambda.deploy lists the keys)"
           )}
      end

    ctx = %{
      config: config,
      env: env,
      profile: opts[:profile],
      layer_zip: opts[:layer_zip],
      online: Keyword.get(opts, :online, false),
      build_root:
        Keyword.get_lazy(opts, :build_root, fn -> Path.dirname(Mix.Project.build_path()) end)
    }

    Local.checks(ctx) ++ [config_check | Local.project_checks(ctx)] ++ Remote.checks(ctx)
  end

  @doc "True when a check failed that a deploy would fail on."
  @spec failed?([Check.t()]) :: boolean()
  def failed?(checks), do: Enum.any?(checks, &(&1.status == :error))

  @doc "The report, one line per check, a fix under each problem, and a summary."
  @spec format([Check.t()]) :: String.t()
  def format(checks) do
    width = checks |> Enum.map(&String.length(&1.name)) |> Enum.max(fn -> 10 end)

    lines =
      Enum.map(checks, fn check ->
        head =
          "  #{tag(check.status)}  #{String.pad_trailing(check.name, width)}  #{check.summary}"

        if check.fix,
          do: head <> "\n#{String.duplicate(" ", 11 + width)}fix: #{check.fix}",
          else: head
      end)

    errors = Enum.count(checks, &(&1.status == :error))
    warnings = Enum.count(checks, &(&1.status == :warn))

    summary =
      case errors do
        0 -> "Nothing would stop a deploy" <> warnings_text(warnings) <> "."
        n -> "#{n} #{plural(n, "problem")} would stop a deploy" <> warnings_text(warnings) <> "."
      end

    Enum.join(lines, "\n") <> "\n\n" <> summary
  end

  defp warnings_text(0), do: ""
  defp warnings_text(n), do: "; #{n} #{plural(n, "warning")}"
  defp plural(1, word), do: word
  defp plural(_, word), do: word <> "s"

  defp tag(:ok), do: "ok   "
  defp tag(:info), do: "info "
  defp tag(:warn), do: "warn "
  defp tag(:error), do: "ERROR"
end

defmodule LambdaRuntime.Tools.Deploy.Doctor.Check do
  @moduledoc "One line of `mix lambda.doctor`: a name, a status, what was found, the fix."
  defstruct [:name, :status, :summary, :fix]

  @type t :: %__MODULE__{
          name: String.t(),
          status: :ok | :info | :warn | :error,
          summary: String.t(),
          fix: String.t() | nil
        }

  def ok(name, summary), do: %__MODULE__{name: name, status: :ok, summary: summary}
  def info(name, summary), do: %__MODULE__{name: name, status: :info, summary: summary}

  def warn(name, summary, fix),
    do: %__MODULE__{name: name, status: :warn, summary: summary, fix: fix}

  def error(name, summary, fix),
    do: %__MODULE__{name: name, status: :error, summary: summary, fix: fix}
end
