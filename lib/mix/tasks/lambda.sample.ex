defmodule Mix.Tasks.Lambda.Sample do
  @shortdoc "Lists the sample Lambda events, or prints one"
  @moduledoc """
  Prints a sample event in the shape AWS documents for its source, to read,
  to edit into a test event, or to pipe somewhere. Without a name, lists
  the samples.

      mix lambda.sample                      # the list, with descriptions
      mix lambda.sample sqs                  # the SQS sample, as JSON
      mix lambda.sample apigateway-http > event.json
      mix lambda.invoke --sample sqs         # invoke the handler with it

  The samples: #{Enum.map_join(LambdaRuntime.Samples.names(), ", ", &"`#{&1}`")}.
  They live in `priv/samples/` of `:lambda_runtime`; `LambdaRuntime.Samples`
  loads them in tests.

  ## Options

  None; the only argument is the sample's name.
  """
  use Mix.Task

  alias LambdaRuntime.Samples
  alias LambdaRuntime.Tools.CLI

  @impl Mix.Task
  def run(args) do
    case CLI.parse!("lambda.sample", args,
           switches: [],
           args: 0..1,
           args_text: "one sample name",
           hint: known()
         ) do
      {[], []} ->
        width = Samples.names() |> Enum.map(&String.length/1) |> Enum.max()

        for {name, description} <- Samples.list(),
            do: Mix.shell().info(String.pad_trailing(name, width + 2) <> description)

      {[], [name]} ->
        case Samples.path(name) do
          {:ok, path} -> Mix.shell().info(String.trim_trailing(File.read!(path)))
          :error -> Mix.raise("mix lambda.sample: no sample named #{inspect(name)}; " <> known())
        end
    end
  end

  defp known, do: "the samples are: #{Enum.join(Samples.names(), ", ")}"
end
