defmodule LambdaRuntime.Durable.ConformanceTest do
  # AWS's language-neutral requirements for durable-execution SDKs, through
  # the conformance package's own validator, against this runtime's
  # handlers on bootstrap.sh and dex-local-runner. Writes the results table
  # to _build/durable-conformance/table.md (docs/durable.md shows it).
  use ExUnit.Case, async: false

  alias LambdaRuntime.TestSupport.Durable.Conformance

  @moduletag :conformance
  @moduletag timeout: 900_000

  @known Code.eval_file(Path.expand("conformance/expected_failures.exs", __DIR__)) |> elem(0)

  test "every requirement passes, or fails for its listed reason" do
    only = System.get_env("CONFORMANCE_ONLY", "") |> String.split(",", trim: true)
    suites = System.get_env("CONFORMANCE_SUITES", "") |> String.split(",", trim: true)
    opts = if suites == [], do: [only: only], else: [only: only, suites: suites]
    results = Conformance.run!(opts)
    reasons = Map.new(@known, fn {id, {reason, _}} -> {id, reason} end)
    File.write!(Path.join(Conformance.out_dir(), "table.md"), Conformance.table(results, reasons))

    failed = for r <- results, not r["passed"], into: %{}, do: {r["id"], r["errors"]}

    unexpected =
      for {id, errors} <- failed,
          {_reason, allowed} = Map.get(@known, id, {nil, []}),
          other = Enum.reject(errors, fn e -> Enum.any?(allowed, &Regex.match?(&1, e)) end),
          other != [],
          into: %{},
          do: {id, other}

    ran = MapSet.new(results, & &1["id"])
    fixed = for {id, _} <- @known, id in ran, not Map.has_key?(failed, id), do: id

    assert unexpected == %{},
           "requirements failing for a reason not listed in conformance/expected_failures.exs:\n" <>
             inspect(unexpected, pretty: true, limit: :infinity)

    assert fixed == [], "requirements listed as failing now pass (remove them): #{inspect(fixed)}"
    assert results != []
  end
end
