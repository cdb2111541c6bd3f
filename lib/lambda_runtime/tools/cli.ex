defmodule LambdaRuntime.Tools.CLI do
  @moduledoc """
  What the `lambda.*` Mix tasks share, so that a task is its options and a
  call into the library module that does the work:

    * `parse!/3`: the command line, through `OptionParser` in strict mode;
    * `settings!/2`: the project's `lambda:` settings under the flags,
      validated by `LambdaRuntime.Tools.Settings`;
    * `ok!/2`: a library's `{:error, reason}` as a `Mix.raise/1`.

  Every message starts with `mix TASK` and says what to do instead.
  """

  alias LambdaRuntime.Tools.Settings

  @doc """
  Parses `args` for `task` (e.g. `"lambda.deploy"`). Returns `{options,
  arguments}`. Options:

    * `:switches` - `OptionParser`'s `strict:` list (required; `[]` for a
      task without options)
    * `:args` - how many positional arguments the task takes: an integer
      or `min..max` (default `0`)
    * `:args_text` - what those are, for the message when there are too
      many or too few (default `"no arguments"`), e.g. `"one sample name"`
    * `:hint` - a sentence added to that message, e.g. how to give what
      was probably meant

  An unknown option, an option without its value, a value of the wrong
  type and a wrong number of arguments raise `Mix.Error` naming them.
  """
  @spec parse!(String.t(), [String.t()], keyword()) :: {keyword(), [String.t()]}
  def parse!(task, args, spec) do
    switches = Keyword.fetch!(spec, :switches)
    count = Keyword.get(spec, :args, 0)
    range = if is_integer(count), do: count..count, else: count

    case OptionParser.parse(args, strict: switches) do
      {opts, rest, []} ->
        if length(rest) in range do
          {opts, rest}
        else
          Mix.raise(
            "mix #{task} takes #{Keyword.get(spec, :args_text, "no arguments")}, " <>
              "got #{got(rest)}" <> hint(spec[:hint])
          )
        end

      {_, _, [{option, value} | _]} ->
        Mix.raise("mix #{task}" <> invalid(option, value, switches) <> help(task))
    end
  end

  defp got([]), do: "none"
  defp got(rest), do: Enum.map_join(rest, " ", &inspect/1)

  defp hint(nil), do: ""
  defp hint(sentence), do: "; " <> sentence

  defp help(task), do: "; run `mix help #{task}` for the options"

  defp invalid(option, _value, []), do: " takes no options, got #{option}"

  defp invalid(option, value, switches) do
    case type(option, switches) do
      nil -> ": unknown option #{option}"
      type when value == nil -> ": #{option} needs #{describe(type)}"
      type -> ": #{option} takes #{describe(type)}, got #{inspect(value)}"
    end
  end

  defp type("--" <> name, switches) do
    key = name |> String.replace("-", "_") |> String.to_atom()
    if Keyword.has_key?(switches, key), do: switches[key]
  end

  defp describe(:integer), do: "an integer"
  defp describe(:float), do: "a number"
  defp describe(:boolean), do: "no value"
  defp describe([type, :keep]), do: describe(type)
  defp describe(_), do: "a value"

  @doc """
  The `lambda:` settings of the current Mix project with `flags` (the
  parsed options named like its keys) on top: `LambdaRuntime.Tools.Settings.load/3`,
  raising its message.
  """
  @spec settings!(String.t(), keyword()) :: Settings.t()
  def settings!(task, flags) do
    project = Mix.Project.config()
    ok!(task, Settings.load(project, flags, project[:app]))
  end

  @doc """
  The value of a library's result: `:ok` and `{:ok, value}` pass,
  `{:error, message}` (a string or an exception) raises `Mix.Error` with
  the message after `mix TASK: `.
  """
  @spec ok!(String.t(), :ok | {:ok, value} | {:error, String.t() | Exception.t()}) ::
          :ok | value
        when value: term()
  def ok!(_task, :ok), do: :ok
  def ok!(_task, {:ok, value}), do: value

  def ok!(task, {:error, message}) when is_binary(message),
    do: Mix.raise("mix #{task}: #{message}")

  def ok!(task, {:error, error}), do: Mix.raise("mix #{task}: #{Exception.message(error)}")
end
