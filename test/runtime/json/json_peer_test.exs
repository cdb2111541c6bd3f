defmodule LambdaRuntime.JSONPeerTest do
  # Differential tests: LambdaRuntime.JSON against jiffy (Debian's
  # erlang-jiffy, installed by scripts/setup.sh) on generated documents.
  use ExUnit.Case, async: true

  import Bitwise

  alias LambdaRuntime.JSON
  alias LambdaRuntime.JSON.DecodeError

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

  test "what we encode, jiffy and we decode to the same term" do
    for _ <- 1..@documents do
      term = gen(4)

      check(term, fn t ->
        json = JSON.encode!(t)
        :jiffy.decode(json, [:return_maps, {:null_term, nil}]) == t and JSON.decode!(json) == t
      end)
    end
  end

  test "documents past the 32 KiB encode budget (paused and resumed): the same terms" do
    # 40 documents of ~20-250 KB: the normal-scheduler encode pauses at a
    # random point inside them and a dirty scheduler carries on.
    sizes =
      for _ <- 1..40 do
        term =
          case :rand.uniform(2) do
            1 -> for _ <- 1..(500 + :rand.uniform(1_500)), do: gen(3)
            2 -> Map.new(1..(500 + :rand.uniform(1_500)), fn i -> {"k#{i}", gen(3)} end)
          end

        # Also byte-equal to the one-shot dirty encode: a decode would not
        # see a map entry written twice (the last duplicate key wins).
        check(term, fn t ->
          json = JSON.encode!(t)

          :jiffy.decode(json, [:return_maps, {:null_term, nil}]) == t and JSON.decode!(json) == t and
            {:ok, json} == LambdaRuntime.Native.json_encode_dirty(t)
        end)

        byte_size(JSON.encode!(term))
      end

    assert Enum.count(sizes, &(&1 > 32 * 1024)) >= 30, "sizes: #{inspect(sizes)}"
  end

  test "what jiffy encodes, we decode to the same term" do
    for _ <- 1..@documents do
      check(gen(4), fn t -> JSON.decode!(:jiffy.encode(to_jiffy(t))) == t end)
    end
  end

  test "escaped text and duplicate keys: the same terms as jiffy" do
    for _ <- 1..@documents do
      doc = escaped_doc(3)
      ours = JSON.decode!(doc)
      assert same?(ours, :jiffy.decode(doc, [:return_maps, {:null_term, nil}])), doc
      assert JSON.decode!(JSON.encode!(ours)) == ours, doc
    end
  end

  test "#14.8 numbers beyond a float's range: kept as BigNumber, the rest as jiffy reads it" do
    # jiffy refuses 1e400 outright ({range, 400}), so the differential check
    # is on everything else: with each such number written as null, jiffy's
    # term equals ours with each BigNumber as nil; and ours round-trips.
    for _ <- 1..@documents do
      term = gen(4) |> with_big_numbers()
      json = JSON.encode!(term)
      assert JSON.decode!(json) == term, json

      # Exponents of four digits: no float prints one.
      nulled = Regex.replace(~r/-?[1-9]\.[0-9][eE][+]?[0-9]{4}/, json, "null")
      theirs = :jiffy.decode(nulled, [:return_maps, {:null_term, nil}])
      assert same?(without_big_numbers(term), theirs), json
    end
  end

  # Replaces about one float or integer in four with an out-of-range number.
  defp with_big_numbers(list) when is_list(list), do: Enum.map(list, &with_big_numbers/1)

  defp with_big_numbers(map) when is_map(map),
    do: Map.new(map, fn {k, v} -> {k, with_big_numbers(v)} end)

  defp with_big_numbers(n) when is_number(n) do
    if :rand.uniform(4) == 1 do
      sign = Enum.random(["", "-"])
      exp = Enum.random(["e", "E", "e+", "E+"])

      text =
        "#{sign}#{:rand.uniform(9)}.#{:rand.uniform(10) - 1}#{exp}#{999 + :rand.uniform(9000)}"

      %JSON.BigNumber{text: text}
    else
      n
    end
  end

  defp with_big_numbers(other), do: other

  defp without_big_numbers(%JSON.BigNumber{}), do: nil
  defp without_big_numbers(list) when is_list(list), do: Enum.map(list, &without_big_numbers/1)

  defp without_big_numbers(map) when is_map(map),
    do: Map.new(map, fn {k, v} -> {k, without_big_numbers(v)} end)

  defp without_big_numbers(other), do: other

  test "a failing property is reported with its smallest failing term" do
    # The shrinker itself: a property that fails on any list holding 13.
    failing = fn t -> not contains?(t, 13) end
    big = %{"a" => [1, [2, 13, 4], %{"b" => 5}], "c" => "x"}
    assert shrink(big, failing) == 13
  end

  test "decimal to double is correctly rounded where jiffy is one ULP off" do
    assert JSON.decode!("391312205131494574907956545297975377e5") === 3.913122051314946e40
  end

  test "pretty-printed jiffy output decodes the same as compact" do
    for _ <- 1..200 do
      term = gen(4)
      assert JSON.decode!(:jiffy.encode(to_jiffy(term), [:pretty])) == term
    end
  end

  test "mutated documents: never a crash, and the same verdict as jiffy" do
    # jiffy accepts a dangling exponent ("1E-"); RFC 8259 does not.
    jiffy_lenient = &(&1.message =~ "digits must follow the exponent")

    for _ <- 1..20_000 do
      doc = mutate(JSON.encode!(gen(3)))

      case {JSON.decode(doc), jiffy_decode(doc)} do
        {{:ok, ours}, {:ok, theirs}} ->
          assert same?(ours, theirs), doc

        {{:error, %DecodeError{}}, :error} ->
          :ok

        # jiffy refuses a number beyond a float's range; we keep it (#14.8).
        {{:ok, ours}, :error} ->
          assert inspect(ours) =~ "BigNumber", doc

        {{:error, %DecodeError{} = error}, {:ok, _}} ->
          assert jiffy_lenient.(error), doc

        {ours, theirs} ->
          flunk("#{inspect(doc)}: ours #{inspect(ours)}, jiffy #{inspect(theirs)}")
      end
    end
  end

  # Asserts `property` holds for `term`; if not, shrinks the term to the
  # smallest one that still fails, and prints that with its JSON.
  defp check(term, property) do
    unless property.(term) do
      small = shrink(term, property)

      flunk(
        "property fails; smallest failing term: #{inspect(small)}\nJSON: #{JSON.encode!(small)}"
      )
    end
  end

  # Greedy shrinking: try each child, then each container with one item
  # removed; keep the first candidate that still fails, until none does.
  defp shrink(term, property) do
    case Enum.find(candidates(term), &(not safe(property, &1))) do
      nil -> term
      smaller -> shrink(smaller, property)
    end
  end

  defp safe(property, term) do
    property.(term)
  catch
    _, _ -> false
  end

  defp candidates(list) when is_list(list) do
    list ++ for i <- 0..(length(list) - 1)//1, do: List.delete_at(list, i)
  end

  defp candidates(map) when is_map(map) do
    Map.values(map) ++ for k <- Map.keys(map), do: Map.delete(map, k)
  end

  defp candidates(_), do: []

  defp contains?(13, 13), do: true
  defp contains?(list, x) when is_list(list), do: Enum.any?(list, &contains?(&1, x))
  defp contains?(map, x) when is_map(map), do: Enum.any?(Map.values(map), &contains?(&1, x))
  defp contains?(_, _), do: false

  # JSON text written directly: strings with \uXXXX escapes (surrogate
  # pairs for astral characters), empty and duplicate keys.
  defp escaped_doc(0), do: escaped_string()

  defp escaped_doc(depth) do
    case :rand.uniform(4) do
      1 ->
        keys =
          for _ <- 1..:rand.uniform(4),
              do: Enum.random([~s(""), ~s("k"), ~S("\u006b"), escaped_string()])

        "{" <> Enum.map_join(keys, ",", &(&1 <> ":" <> escaped_doc(depth - 1))) <> "}"

      2 ->
        "[" <> Enum.map_join(1..:rand.uniform(4), ",", fn _ -> escaped_doc(depth - 1) end) <> "]"

      _ ->
        Enum.random([
          escaped_string(),
          "-0",
          "1e308",
          "-1E-300",
          "123456789012345678901234567890"
        ])
    end
  end

  defp escaped_string do
    chars =
      for _ <- 1..:rand.uniform(6) do
        case Enum.random([?a, 0xE9, 0x2028, 0x1F600, 0x10FFFF, ?", ?\\, 0]) do
          c when c > 0xFFFF ->
            c = c - 0x10000
            hex(0xD800 + (c >>> 10)) <> hex(0xDC00 + (c &&& 0x3FF))

          ?" ->
            ~S(\")

          ?\\ ->
            ~S(\\)

          c ->
            if c < 0x20 or :rand.uniform(2) == 1, do: hex(c), else: <<c::utf8>>
        end
      end

    ~s(") <> Enum.join(chars) <> ~s(")
  end

  defp hex(c), do: "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")

  # jiffy's decimal-to-double is sometimes one ULP off (ours is correctly
  # rounded: "391312205131494574907956545297975377e5" is
  # 3.913122051314946e40, as Python and Rust agree; jiffy says ...455e40).
  defp same?(a, b) when is_float(a) and is_float(b), do: abs(a - b) <= abs(a) * 4.0e-16

  defp same?(a, b) when is_list(a) and is_list(b),
    do: length(a) == length(b) and Enum.all?(Enum.zip(a, b), fn {x, y} -> same?(x, y) end)

  defp same?(a, b) when is_map(a) and is_map(b),
    do: Map.keys(a) == Map.keys(b) and Enum.all?(a, fn {k, v} -> same?(v, b[k]) end)

  defp same?(a, b), do: a === b

  defp jiffy_decode(doc) do
    {:ok, :jiffy.decode(doc, [:return_maps, {:null_term, nil}, :dedupe_keys])}
  catch
    _, _ -> :error
  end

  @noise ~c"{}[]\",:0123456789.eE+-truefalsnl \\u\t\n" ++ [0, 0xC3, 0xA9, 0xFF, 0xED]

  # One to three random byte edits: replace, delete or insert.
  defp mutate(""), do: ""

  defp mutate(doc) do
    doc
    |> :binary.bin_to_list()
    |> then(&Enum.reduce(1..:rand.uniform(3), &1, fn _, bytes -> edit(bytes) end))
    |> :erlang.list_to_binary()
  end

  defp edit([]), do: [Enum.random(@noise)]

  defp edit(bytes) do
    i = :rand.uniform(length(bytes)) - 1

    case :rand.uniform(3) do
      1 -> List.replace_at(bytes, i, Enum.random(@noise))
      2 -> List.delete_at(bytes, i)
      3 -> List.insert_at(bytes, i, Enum.random(@noise))
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

  # Empty strings (and so empty keys) included.
  defp string do
    for _ <- 1..(:rand.uniform(13) - 1)//1, into: "", do: <<Enum.random(@alphabet)::utf8>>
  end

  defp to_jiffy(nil), do: :null
  defp to_jiffy(list) when is_list(list), do: Enum.map(list, &to_jiffy/1)
  defp to_jiffy(map) when is_map(map), do: Map.new(map, fn {k, v} -> {k, to_jiffy(v)} end)
  defp to_jiffy(other), do: other
end
