defmodule LambdaRuntime.JSONSchedulersTest do
  # Small work on the calling scheduler, large work on a dirty one: both
  # sides of the 16 KiB decode threshold and the 32 KiB encode budget, and
  # an encode paused past its budget and resumed.
  use ExUnit.Case, async: true

  alias LambdaRuntime.{JSON, Native}
  alias LambdaRuntime.JSON.{DecodeError, EncodeError}

  describe "small and large work (normal and dirty schedulers)" do
    # A JSON string document of exactly `size` bytes.
    defp doc_of_size(size), do: ~s(") <> String.duplicate("a", size - 2) <> ~s(")

    test "documents on both sides of the 16 KiB decode threshold" do
      for size <- [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 100_000] do
        doc = doc_of_size(size)
        assert byte_size(JSON.decode!(doc)) == size - 2

        bad = binary_part(doc, 0, size - 2) <> <<0xFF, ?">>
        assert {:error, %DecodeError{position: position}} = JSON.decode(bad)
        assert position == size - 2, "size #{size}"
      end
    end

    test "outputs on both sides of the 32 KiB encode budget" do
      for size <- [32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 200_000] do
        text = String.duplicate("b", size - 2)
        assert JSON.encode!(text) == ~s(") <> text <> ~s(")
      end
    end

    test "a struct, an error or deep nesting after the budget is still found" do
      prefix = String.duplicate("c", 40_000)

      assert JSON.decode!(JSON.encode!([prefix, ~D[2024-01-01]])) == [prefix, "2024-01-01"]

      assert {:error, %EncodeError{reason: :unsupported, term: {:late}}} =
               JSON.encode([prefix, {:late}])

      deep = Enum.reduce(1..2_000, [], fn _, acc -> [acc] end)
      assert {:error, %EncodeError{reason: :too_deep}} = JSON.encode([prefix, deep])

      assert {:error, %EncodeError{reason: :unsupported, term: {:after_struct}}} =
               JSON.encode([prefix, ~D[2024-01-01], {:after_struct}])
    end

    test "an encode past the budget is paused on the normal scheduler and resumed, not restarted" do
      pad = String.duplicate("p", 2_000)

      terms = [
        # a list of maps, paused inside a map
        for(i <- 1..60, do: %{"i" => i, "pad" => pad, "tags" => [i, i + 1]}),
        # a map of lists, paused inside a list
        Map.new(1..40, fn i -> {"k#{i}", [pad, i, nil, true, 1.5]} end),
        # nesting open on several levels when the budget runs out
        %{"a" => [%{"b" => Map.new(1..50, &{&1, [pad]})}, "after"], "z" => 0},
        # a string too large for what is left of the budget
        ["x", String.duplicate("é", 100_000), "y"],
        # small items only: the pause comes between two of them
        for(i <- 1..5_000, do: %{"i" => i, "s" => "ab"}),
        # one wide map, paused among its entries
        Map.new(1..20_000, &{&1, -&1})
      ]

      for term <- terms do
        assert {:cont, prefix, frames} = Native.json_encode(term)
        assert byte_size(prefix) < 40_000
        assert {:ok, resumed} = Native.json_encode_resume(prefix, frames)
        assert {:ok, ^resumed} = Native.json_encode_dirty(term)
        assert String.starts_with?(resumed, prefix)
        assert JSON.encode!(term) == resumed
      end

      assert {:cont, _, [{:map, _, written, false}]} = Native.json_encode(List.last(terms))
      assert written in 1000..19_999

      # (the third and the last have integer keys, which come back as strings)
      for term <- terms |> List.delete_at(5) |> List.delete_at(2),
          do: assert(JSON.decode!(JSON.encode!(term)) == term)
    end

    test "a large string is never escaped on the normal scheduler" do
      big = String.duplicate("q", 1_000_000)
      assert {:cont, "", [{:value, ^big}]} = Native.json_encode(big)
      assert {:cont, "[1,", [{:list, [], false}, {:value, ^big}]} = Native.json_encode([1, big])

      assert JSON.encode!([1, big]) == "[1,\"" <> big <> "\"]"
    end

    test "frames that json_encode did not make are an error, not a crash" do
      for frames <- [
            :nope,
            [:nope],
            [{:bogus, [], true}],
            [{:list, [1], :maybe}],
            [{:map, :not_a_map, 0, true}],
            [{:map, %{"a" => 1}, 2, true}],
            [{:map, %{"a" => 1}, -1, true}],
            [{:value}]
          ] do
        assert {:error, {:bad_frames, _}} = Native.json_encode_resume("[", frames),
               inspect(frames)
      end

      assert {:ok, "[1,2]"} = Native.json_encode_resume("[", [{:list, [1, 2], true}])

      assert {:ok, ~s({"a":1,"b":2})} =
               Native.json_encode_resume(~s({"a":1), [{:map, %{"a" => 1, "b" => 2}, 1, false}])
    end

    test "an improper list is reported as such after a pause too" do
      big = String.duplicate("a", 40_000)
      assert {:cont, "[", [{:list, :x, false}, {:value, ^big}]} = Native.json_encode([big | :x])
      assert {:error, %EncodeError{reason: :improper_list, term: :x}} = JSON.encode([big | :x])

      wide = Map.new(1..10_000, &{&1, &1})

      assert {:error, %EncodeError{reason: :improper_list, term: :y}} = JSON.encode([wide | :y])
    end

    test "many processes at once get their own results" do
      tasks =
        for i <- 1..32 do
          Task.async(fn ->
            for j <- 1..25 do
              term = %{
                "i" => i,
                "j" => j,
                "pad" => String.duplicate("x", rem(i * j * 997, 60_000))
              }

              ^term = term |> JSON.encode!() |> JSON.decode!()
              {i, j}
            end
          end)
        end

      results = Enum.flat_map(tasks, &Task.await(&1, 30_000))
      assert length(results) == 32 * 25
    end
  end
end
