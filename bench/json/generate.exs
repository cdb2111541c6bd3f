defmodule JsonBench.Generate do
  @moduledoc false
  # Deterministic large documents for bench/json/bench.exs: a "Records"
  # array of event-like objects mixing ASCII and non-ASCII strings, escapes,
  # integers, floats, booleans, nulls and nesting, grown to a target size.

  @names ["Ada Lovelace", "Zoë Martin", "李雷", "Ивана Петрова", "Søren", "O'Brien \"Bob\""]

  @doc "A JSON binary of at least `bytes` bytes."
  def doc(bytes) do
    one = :jiffy.encode(record(0)) |> IO.iodata_length()
    n = div(bytes, one) + 1

    %{"Records" => Enum.map(0..(n - 1), &record/1), "count" => n}
    |> :jiffy.encode()
    |> IO.iodata_to_binary()
  end

  defp record(i) do
    %{
      "messageId" => "msg-#{i}-#{:erlang.phash2(i, 1_000_000_000)}",
      "eventSource" => "aws:sqs",
      "awsRegion" => "eu-central-1",
      "sentTimestamp" => 1_795_771_000_000 + i,
      "body" => "{\"orderId\":#{i},\"note\":\"line one\\nline two\\t(tab) \\u00e9\",\"ok\":true}",
      "customer" => %{
        "id" => i,
        "name" => Enum.at(@names, rem(i, length(@names))),
        "score" => i * 0.37 + 0.125,
        "vip" => rem(i, 7) == 0,
        "referrer" => :null
      },
      "lines" =>
        for j <- 1..3 do
          %{"sku" => "SKU-#{i}-#{j}", "qty" => j, "price" => j * 4.25}
        end,
      "tags" => ["blue", "größe-L", "€uro", "path\\to\\file"]
    }
  end
end
