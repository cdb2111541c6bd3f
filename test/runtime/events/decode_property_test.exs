defmodule LambdaRuntime.Events.DecodePropertyTest do
  # Decoding never raises: every sample and fixture, with each field in
  # turn removed or replaced by a value of another type (every path, every
  # replacement), and then with several random changes at once, decodes to
  # {:ok, struct} or {:error, reason}: never an exception.
  use ExUnit.Case, async: true

  alias LambdaRuntime.{Events, Samples}

  @fixtures LambdaRuntime.TestSupport.Paths.fixture("events")

  # Values of every JSON type, and strings that are not valid base64,
  # %-escapes, numbers or gzip.
  @values [
    nil,
    0,
    -1,
    1.5,
    1.0e300,
    "",
    "x",
    "%zz",
    "!!",
    "12abc",
    true,
    false,
    [],
    [1],
    [%{}],
    %{},
    %{"a" => 1},
    %{"S" => 1},
    %{"N" => "x"}
  ]

  defp events do
    samples = for name <- Samples.names(), do: {name, Samples.load!(name)}

    fixtures =
      for path <- Path.wildcard(Path.join(@fixtures, "*.json")),
          do: {Path.basename(path), LambdaRuntime.JSON.decode!(File.read!(path))}

    samples ++ fixtures
  end

  # Every path to a value inside `term`: lists of map keys and list indices.
  defp paths(term, prefix \\ [])

  defp paths(map, prefix) when is_map(map),
    do: Enum.flat_map(map, fn {k, v} -> [Enum.reverse([k | prefix]) | paths(v, [k | prefix])] end)

  defp paths(list, prefix) when is_list(list) do
    list
    |> Enum.with_index()
    |> Enum.flat_map(fn {v, i} -> [Enum.reverse([i | prefix]) | paths(v, [i | prefix])] end)
  end

  defp paths(_, _), do: []

  defp put(term, [key], value) when is_map(term), do: Map.put(term, key, value)
  defp put(term, [i], value) when is_list(term), do: List.replace_at(term, i, value)

  defp put(term, [key | rest], value) when is_map(term),
    do: Map.put(term, key, put(Map.fetch!(term, key), rest, value))

  defp put(term, [i | rest], value) when is_list(term),
    do: List.replace_at(term, i, put(Enum.at(term, i), rest, value))

  defp remove(term, [key]) when is_map(term), do: Map.delete(term, key)
  defp remove(term, [i]) when is_list(term), do: List.delete_at(term, i)

  defp remove(term, [key | rest]) when is_map(term),
    do: Map.put(term, key, remove(Map.fetch!(term, key), rest))

  defp remove(term, [i | rest]) when is_list(term),
    do: List.replace_at(term, i, remove(Enum.at(term, i), rest))

  defp check!(event, what) do
    result =
      try do
        Events.decode(event)
      rescue
        e -> flunk("#{what}: decode raised #{Exception.format(:error, e, __STACKTRACE__)}")
      end

    case result do
      {:ok, struct} when is_struct(struct) -> :ok
      {:error, reason} when is_binary(reason) -> :error
      other -> flunk("#{what}: decode returned #{inspect(other)}")
    end
  end

  test "every field removed or retyped, one at a time" do
    counts =
      for {name, event} <- events(), path <- paths(event), reduce: %{ok: 0, error: 0} do
        acc ->
          results = [
            check!(remove(event, path), "#{name}: removing #{inspect(path)}")
            | for(
                v <- @values,
                do: check!(put(event, path, v), "#{name}: #{inspect(path)} = #{inspect(v)}")
              )
          ]

          Enum.reduce(results, acc, &Map.update!(&2, &1, fn n -> n + 1 end))
      end

    # Both outcomes occur many times: the mutations reach the decoders.
    assert counts.ok > 1000, inspect(counts)
    assert counts.error > 1000, inspect(counts)
  end

  test "several random changes at once (seeded by ExUnit's seed)" do
    events = events()

    for _ <- 1..400 do
      {name, event} = Enum.random(events)

      {mutated, steps} =
        Enum.reduce(1..Enum.random(2..6), {event, []}, fn _, {e, steps} ->
          case paths(e) do
            [] ->
              {e, steps}

            paths ->
              path = Enum.random(paths)

              if :rand.uniform(3) == 1,
                do: {remove(e, path), [{:remove, path} | steps]},
                else:
                  (
                    v = Enum.random(@values)
                    {put(e, path, v), [{path, v} | steps]}
                  )
          end
        end)

      check!(mutated, "#{name} with #{inspect(Enum.reverse(steps))}")
    end
  end

  test "handlers that use LambdaRuntime.Events get a DecodeError, not a crash elsewhere" do
    assert_raise Events.DecodeError, fn ->
      Events.for_handler(%{"Records" => [%{"eventSource" => "aws:sqs", "body" => 1}]}, :all)
    end

    assert Events.for_handler(%{"custom" => true}, :all) == %{"custom" => true}
    sqs = Samples.load!("sqs")
    assert Events.for_handler(sqs, [:s3]) == sqs
    assert %Events.SQS{} = Events.for_handler(sqs, [:sqs])
  end
end
