defmodule Heavy do
  @moduledoc """
  The CPU-heavy benchmark handler: the runtime decodes a ~100 KB event
  (`{"records": [...]}`, written by `bench/echo_ex/heavy_files.exs`), this
  handler transforms every record in Elixir (strings, integers, lists,
  maps) and summarises the batch, and the runtime encodes the result
  (~110 KB). It stands for an event-processing function whose time goes
  into Elixir code, where the emulator flavor (JIT or interpreter) matters;
  the JSON work happens in the runtime's NIF, the same for both flavors.

  Deterministic: the same event always gives the same response, so the
  load generator checks every response against the expected one.
  """

  @tax_percent %{"DE" => 19, "FR" => 20, "SE" => 25, "US" => 7, "JP" => 10, "BR" => 17}

  @doc "Transforms every record of the event and adds a summary."
  def handle(%{"records" => records}, _context) when is_list(records) do
    out = Enum.map(records, &record/1)
    {:ok, %{"count" => length(out), "records" => out, "summary" => summary(out)}}
  end

  defp record(r) do
    name = r["name"] |> String.split(" ", trim: true) |> Enum.map_join(" ", &String.capitalize/1)
    email = String.downcase(r["email"])
    [_, domain] = String.split(email, "@", parts: 2)
    total = r["price_cents"] * r["qty"]
    tax = div(total * Map.get(@tax_percent, r["country"], 0), 100)
    <<date::binary-size(10), _::binary>> = r["created"]

    %{
      "id" => r["id"],
      "sku" => r["sku"],
      "name" => name,
      "slug" => slug(r["name"]),
      "email" => email,
      "domain" => domain,
      "country" => r["country"],
      "date" => date,
      "total_cents" => total,
      "tax_cents" => tax,
      "gross_cents" => total + tax,
      "tags" => r["tags"] |> Enum.uniq() |> Enum.sort(),
      "checksum" => checksum(r["notes"]),
      "words" => r["notes"] |> String.split() |> length()
    }
  end

  # Lower-case letters and digits, every other run of characters one dash.
  defp slug(text) do
    text
    |> String.downcase()
    |> String.to_charlist()
    |> Enum.chunk_by(&(&1 in ?a..?z or &1 in ?0..?9))
    |> Enum.map_join(fn [c | _] = run ->
      if c in ?a..?z or c in ?0..?9, do: List.to_string(run), else: "-"
    end)
    |> String.trim("-")
  end

  defp checksum(text) do
    for <<b <- text>>, reduce: 7 do
      acc -> rem(acc * 31 + b, 1_000_000_007)
    end
  end

  defp summary(records) do
    by_country =
      records
      |> Enum.group_by(& &1["country"])
      |> Map.new(fn {country, rs} ->
        {country,
         %{
           "orders" => length(rs),
           "gross_cents" => rs |> Enum.map(& &1["gross_cents"]) |> Enum.sum(),
           "tax_cents" => rs |> Enum.map(& &1["tax_cents"]) |> Enum.sum()
         }}
      end)

    %{
      "by_country" => by_country,
      "top" =>
        records
        |> Enum.sort_by(& &1["gross_cents"], :desc)
        |> Enum.take(5)
        |> Enum.map(& &1["id"]),
      "tags" => records |> Enum.flat_map(& &1["tags"]) |> Enum.frequencies(),
      "domains" => records |> Enum.map(& &1["domain"]) |> Enum.uniq() |> length()
    }
  end
end
