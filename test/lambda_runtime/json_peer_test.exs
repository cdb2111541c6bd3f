defmodule LambdaRuntime.JSONPeerTest do
  # Differential tests: LambdaRuntime.JSON against jiffy (Debian's
  # erlang-jiffy, installed by scripts/setup.sh) on generated documents.
  use ExUnit.Case, async: true

  import Bitwise

  alias LambdaRuntime.JSON

  @documents 2_000

  setup_all do
    unless Code.ensure_loaded?(:jiffy) do
      flunk("jiffy is not installed (apt-get install erlang-jiffy; scripts/setup.sh does)")
    end

    :ok
  end

  setup do
    # A fixed seed per test: a failure names the document and can be replayed.
    :rand.seed(:exsss, {7, 11, 13})
    :ok
  end

  test "what we encode, jiffy decodes to the same term" do
    for _ <- 1..@documents do
      term = gen(4)
      json = JSON.encode!(term)
      assert :jiffy.decode(json, [:return_maps, {:null_term, nil}]) == term, json
    end
  end

  test "what jiffy encodes, we decode to the same term" do
    for _ <- 1..@documents do
      term = gen(4)
      json = :jiffy.encode(to_jiffy(term))
      assert JSON.decode!(json) == term, json
    end
  end

  test "pretty-printed jiffy output decodes the same as compact" do
    for _ <- 1..200 do
      term = gen(4)
      assert JSON.decode!(:jiffy.encode(to_jiffy(term), [:pretty])) == term
    end
  end

  # A random JSON-shaped term, at most `depth` levels deep.
  defp gen(0), do: scalar()

  defp gen(depth) do
    case :rand.uniform(6) do
      1 -> for _ <- 1..:rand.uniform(5), do: gen(depth - 1)
      2 -> Map.new(1..:rand.uniform(5), fn _ -> {string(), gen(depth - 1)} end)
      3 -> []
      4 -> %{}
      _ -> scalar()
    end
  end

  defp scalar do
    case :rand.uniform(8) do
      1 -> nil
      2 -> :rand.uniform(2) == 1
      3 -> :rand.uniform(1 <<< 20) - (1 <<< 19)
      4 -> :rand.uniform(1 <<< 130) - (1 <<< 129)
      5 -> float()
      _ -> string()
    end
  end

  # Finite doubles from random bit patterns: every exponent, subnormals too.
  defp float do
    <<f::float-64>> = <<:rand.uniform(0x7FEFFFFFFFFFFFFF)::64>>
    if :rand.uniform(2) == 1, do: -f, else: f
  end

  @alphabet [?a, ?Z, ?0, ?\s, ?", ?\\, ?/, ?\n, ?\t, 0, 0x1F, 0x7F, 0xE9, 0x2028, 0xFFFD] ++
              [0x1F600, 0x10FFFF]

  defp string do
    for _ <- 0..:rand.uniform(12)//1, into: "", do: <<Enum.random(@alphabet)::utf8>>
  end

  defp to_jiffy(nil), do: :null
  defp to_jiffy(list) when is_list(list), do: Enum.map(list, &to_jiffy/1)
  defp to_jiffy(map) when is_map(map), do: Map.new(map, fn {k, v} -> {k, to_jiffy(v)} end)
  defp to_jiffy(other), do: other
end
