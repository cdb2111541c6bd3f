# Writes the CPU-heavy handler's event and its expected response:
#
#   cd bench/echo_ex && mix run heavy_files.exs OUT_DIR [RECORDS]
#
# OUT_DIR/heavy_event.json: {"records": [...]}, RECORDS records (default 300,
# ~100 KB), the same bytes on every run (a fixed linear congruential
# generator, no :rand); OUT_DIR/heavy_expected.json: Heavy.handle/2's
# result encoded by LambdaRuntime.JSON, what the runtime must answer
# (bench/run.sh passes both to loadgen, which checks every response).
#
# HEAVY_EVENT=FILE: the event is FILE's (decoded with LambdaRuntime.JSON),
# not generated, and only heavy_expected.json is written: bench/otp.sh
# computes the response the OTP 27 layer must give to the same event bytes
# with OTP 27's build of the codec (key order is the VM's map order).
[out | rest] = System.argv()
n = String.to_integer(List.first(rest) || "300")
given = System.get_env("HEAVY_EVENT", "")

words = ~w(ergonomic steel chair rustic wooden table smart lamp quiet fan compact desk oak shelf
     großer gemütlicher sessel élégant fauteuil café crème kitchen mixer travel mug linen towel)

countries = ~w(DE FR SE US JP BR NL)
tags = ~w(new sale eco gift bulk fragile import local premium)

next = fn s -> rem(s * 1_103_515_245 + 12_345, 2_147_483_648) end

pick = fn s, list -> {Enum.at(list, rem(div(s, 7), length(list))), next.(s)} end

take = fn s, list, k ->
  Enum.map_reduce(1..k, s, fn _, s -> pick.(s, list) end)
end

{records, _} =
  Enum.map_reduce(1..n, 42, fn i, s ->
    {name, s} = take.(s, words, 3)
    {note, s} = take.(s, words, 14)
    {tag_list, s} = take.(s, tags, 5)
    {country, s} = pick.(s, countries)
    first = Enum.at(name, 0)

    record = %{
      "id" => i,
      "sku" => "SKU-" <> String.pad_leading(Integer.to_string(i), 6, "0"),
      "name" => Enum.join(name, " "),
      "email" => "Buyer.#{i}.#{String.upcase(first)}@Shop#{rem(s, 17)}.Example.com",
      "price_cents" => 99 + rem(div(s, 3), 50_000),
      "qty" => 1 + rem(div(s, 11), 9),
      "tags" => tag_list,
      "country" => country,
      "created" =>
        "2026-11-#{String.pad_leading(Integer.to_string(1 + rem(i, 28)), 2, "0")}T12:34:56Z",
      "notes" => Enum.join(note, " ")
    }

    {record, next.(s)}
  end)

File.mkdir_p!(out)

event =
  if given == "" do
    event = %{"records" => records}
    File.write!(Path.join(out, "heavy_event.json"), LambdaRuntime.JSON.encode!(event))
    event
  else
    given |> File.read!() |> LambdaRuntime.JSON.decode!()
  end

{:ok, response} = Heavy.handle(event, nil)
File.write!(Path.join(out, "heavy_expected.json"), LambdaRuntime.JSON.encode!(response))

IO.puts(
  if(given == "",
    do: "heavy_event.json #{File.stat!(Path.join(out, "heavy_event.json")).size} bytes, ",
    else: "(event #{given}) "
  ) <> "heavy_expected.json #{File.stat!(Path.join(out, "heavy_expected.json")).size} bytes"
)
