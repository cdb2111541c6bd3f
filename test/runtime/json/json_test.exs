defmodule LambdaRuntime.JSONTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.{JSON, Native}
  alias LambdaRuntime.JSON.{DecodeError, EncodeError}
  alias LambdaRuntime.TestSupport.{Exploding, Money, Point, Wrapper}

  doctest LambdaRuntime.JSON

  defp round_trip(term), do: term |> JSON.encode!() |> JSON.decode!()

  describe "round trips" do
    test "scalars, lists and maps come back as they went" do
      for term <- [
            nil,
            true,
            false,
            0,
            -1,
            42,
            1.5,
            -2.25,
            "",
            "text",
            [],
            [1, "two", nil, [3.0]],
            %{},
            %{"a" => %{"b" => [%{"c" => nil}]}, "" => ""}
          ] do
        assert round_trip(term) == term
      end
    end

    test "atom values and atom or integer keys become strings" do
      # Key order is not part of JSON (and OTP 26+ iterates small atom-keyed
      # maps in another order than OTP 25): compare what the text decodes to.
      json = JSON.encode!(%{a: :b, c: nil, d: true})
      assert JSON.decode!(json) == %{"a" => "b", "c" => nil, "d" => true}
      assert json =~ ~s("a":"b") and json =~ ~s("c":null) and json =~ ~s("d":true)
      assert round_trip(%{1 => :ok, :k => [:x]}) == %{"1" => "ok", "k" => ["x"]}
    end

    test "whitespace around tokens is accepted" do
      assert JSON.decode!(" \t\r\n{ \"a\" : [ 1 , 2 ] ,\"b\":{ } } \n") ==
               %{"a" => [1, 2], "b" => %{}}
    end

    test "iodata input is decoded" do
      assert JSON.decode(["[1,", ["2", ?]]]) == {:ok, [1, 2]}
    end
  end

  describe "numbers" do
    test "integers beyond 64 bits keep every digit, both signs" do
      big = 123_456_789_012_345_678_901_234_567_890_123_456_789
      neg = -big
      json = ~s([#{big},#{neg},18446744073709551616,-9223372036854775809])

      assert JSON.decode!(json) ==
               [big, neg, 18_446_744_073_709_551_616, -9_223_372_036_854_775_809]

      assert JSON.encode!([big, neg]) == "[#{big},#{neg}]"
      assert round_trip(2 ** 200) == 2 ** 200
      assert round_trip(-(2 ** 200)) == -(2 ** 200)
    end

    test "integers of up to 4096 digits decode; longer ones are a clear error" do
      max = String.duplicate("9", 4096)
      assert JSON.decode!(max) == String.to_integer(max)
      assert JSON.decode!("-" <> max) == -String.to_integer(max)

      assert {:error, %DecodeError{position: 0, message: message}} = JSON.decode(max <> "9")
      assert message =~ "more than 4096 digits"
    end

    test "floats survive exactly, including extremes and negative zero" do
      for float <- [1.0e300, 5.0e-324, 1.7976931348623157e308, 0.1, 123.456, 1.0, -1.0e-7] do
        assert round_trip(float) === float
      end

      assert round_trip(-0.0) === -0.0
      assert JSON.decode!("-0.0") === -0.0
    end

    test "fractions and exponents make floats, plain digits integers" do
      assert JSON.decode!("[1E2, 1e-2, 2.5, 10, -0]") == [100.0, 0.01, 2.5, 10, 0]
      assert is_float(hd(JSON.decode!("[1E2]")))
    end

    test "numbers JSON does not allow are errors" do
      for bad <- ["[01]", "[1.]", "[.5]", "[+1]", "[NaN]", "[1e]", "[-]"] do
        assert {:error, %DecodeError{}} = JSON.decode(bad), "expected an error for #{bad}"
      end
    end
  end

  describe "#14.8 numbers beyond a float's range" do
    alias LambdaRuntime.JSON.BigNumber

    test "decode to BigNumber with their text; the event is not lost" do
      assert JSON.decode!(~s({"x":1e400})) == %{"x" => %BigNumber{text: "1e400"}}

      assert JSON.decode!("[-2.5E+999, 1.8e308, 1e308]") ==
               [%BigNumber{text: "-2.5E+999"}, %BigNumber{text: "1.8e308"}, 1.0e308]

      # Underflow is 0.0, as in Python and Node.
      assert JSON.decode!("[1e-400]") == [0.0]
    end

    test "encode back to the same text: a document round-trips byte for byte" do
      doc = ~s({"big":-1.5e400,"list":[1E+999,2],"n":1})
      assert doc |> JSON.decode!() |> JSON.encode!() |> JSON.decode!() == JSON.decode!(doc)
      assert JSON.encode!([JSON.decode!("1e400")]) == "[1e400]"
    end

    test "a BigNumber whose text is not a JSON number is an encode error, not raw output" do
      for text <- ["1e400,\"x\":1", "Infinity", "", "01", "1e", "--1", " 1"] do
        assert {:error, %JSON.EncodeError{reason: :bad_number} = e} =
                 JSON.encode(%{"a" => %BigNumber{text: text}})

        assert Exception.message(e) =~ "not a JSON number"
      end
    end

    test "after the 32 KiB encode budget, too" do
      filler = String.duplicate("x", 40_000)
      term = [filler, %BigNumber{text: "9e9999"}, %{"k" => %BigNumber{text: "-1E400"}}]
      assert JSON.encode!(term) == ~s(["#{filler}",9e9999,{"k":-1E400}])
    end
  end

  describe "strings" do
    test "escapes decode, including an astral-plane surrogate pair" do
      assert JSON.decode!(~S(["\ud83d\ude00", "\u00e9", "\n\t\r\b\f\"\\\/", "\u0000"])) ==
               ["😀", "é", "\n\t\r\b\f\"\\/", <<0>>]
    end

    test "raw UTF-8 passes through both ways" do
      text = "héllo wörld 😀 日本語 \u2028"
      assert JSON.decode!(~s(["#{text}"])) == [text]
      assert round_trip(text) == text
    end

    test "control characters are escaped on encode and rejected raw on decode" do
      encoded = JSON.encode!(<<0, 1, 31, ?\n, ?", ?\\>>)
      assert encoded == ~S("\u0000\u0001\u001f\n\"\\")
      assert JSON.decode!(encoded) == <<0, 1, 31, ?\n, ?", ?\\>>

      assert {:error, %DecodeError{position: 3, message: message}} =
               JSON.decode(<<"[\"a", 10, "b\"]">>)

      assert message =~ "control character"
    end

    test "invalid UTF-8 in a string is an error at its byte offset" do
      assert {:error, %DecodeError{position: 4} = error} = JSON.decode(<<"[\"ab", 0xFF, "\"]">>)
      assert Exception.message(error) =~ "byte 4"
      assert Exception.message(error) =~ "UTF-8"

      # A truncated multi-byte sequence, deeper in the document.
      assert {:error, %DecodeError{position: 8}} =
               JSON.decode(<<"{\"k\": \"x", 0xE2, 0x82, "\"}">>)
    end

    test "unpaired surrogates and bad escapes are errors" do
      for bad <- [~S(["\ud83d"]), ~S(["\ude00x"]), ~S(["\x"]), ~S(["\u12"])] do
        assert {:error, %DecodeError{}} = JSON.decode(bad), "expected an error for #{bad}"
      end
    end
  end

  describe "objects" do
    test "the last of duplicate keys wins" do
      assert JSON.decode!(~s({"a": 1, "b": 2, "a": 3})) == %{"a" => 3, "b" => 2}
    end

    test "keys are always binaries" do
      assert JSON.decode!(~s({"1": true, "nil": null})) == %{"1" => true, "nil" => nil}
    end
  end

  describe "#14.9 duplicate keys on encode" do
    test "an atom and a string key of the same name are an error naming both" do
      assert {:error, %JSON.EncodeError{reason: :duplicate_key} = e} =
               JSON.encode(%{:a => 1, "a" => 2})

      assert Exception.message(e) =~ ~s(both keys :a and "a")
      assert Exception.message(e) =~ ~s(the object key "a")
    end

    test "integer and string keys, deep inside a document, after the encode budget" do
      assert {:error, %JSON.EncodeError{reason: :duplicate_key}} =
               JSON.encode(%{"outer" => [%{1 => :x, "1" => :y}]})

      assert {:error, %JSON.EncodeError{reason: :duplicate_key}} =
               JSON.encode(%{:"1" => 1, 1 => 2})

      filler = String.duplicate("x", 40_000)
      big = Map.new(1..100, &{"k#{&1}", &1}) |> Map.put(:k50, 0)

      assert {:error, %JSON.EncodeError{reason: :duplicate_key}} = JSON.encode([filler, big])

      # Paused inside a large map whose mixed keys come after the pause.
      wide = Map.new(1..3_000, &{"key-#{&1}", String.duplicate("v", 20)})

      assert {:error, %JSON.EncodeError{reason: :duplicate_key}} =
               JSON.encode(Map.merge(wide, %{:"key-2999" => 1}))
    end

    test "mixed key types with distinct names encode; so do one-type maps" do
      assert JSON.decode!(JSON.encode!(%{:a => 1, "b" => 2, 3 => 3})) ==
               %{"a" => 1, "b" => 2, "3" => 3}

      wide = Map.new(1..3_000, &{"key-#{&1}", &1})
      assert wide |> Map.put(:other, 0) |> JSON.encode!() |> JSON.decode!() |> map_size() == 3_001
    end

    test "a handler returning such a map gets Runtime.InvalidResponse" do
      assert {:error, %{"errorType" => "Runtime.InvalidResponse", "errorMessage" => message}} =
               LambdaRuntime.Test.invoke(fn_handler(), %{})

      assert message =~ ~s(both keys :a and "a")
    end
  end

  defp fn_handler, do: "LambdaRuntime.TestHandlers.Outcomes.duplicate_keys"

  describe "malformed documents" do
    test "each is a DecodeError naming the position" do
      cases = [
        {"", 0},
        {"[1,]", 3},
        {"[1 2]", 3},
        {"1 2", 2},
        {~s({"a" 1}), 5},
        {~s({1: 2}), 1},
        {"[", 1},
        {"tru", 0}
      ]

      for {doc, position} <- cases do
        assert {:error, %DecodeError{position: ^position}} = JSON.decode(doc),
               "expected an error at byte #{position} for #{inspect(doc)}"
      end
    end

    test "decode! raises the DecodeError" do
      assert_raise DecodeError, ~r/invalid JSON at byte 3/, fn -> JSON.decode!("[1,]") end
    end
  end

  describe "nesting" do
    test "100 000 levels of arrays or objects decode to an error, not a crash" do
      arrays = String.duplicate("[", 100_000) <> String.duplicate("]", 100_000)
      assert {:error, %DecodeError{message: message}} = JSON.decode(arrays)
      assert message =~ "deeper than 1024"

      objects = String.duplicate(~s({"a":), 100_000) <> "1" <> String.duplicate("}", 100_000)
      assert {:error, %DecodeError{}} = JSON.decode(objects)
    end

    test "100 000 levels of lists or maps encode to an error, not a crash" do
      list = Enum.reduce(1..100_000, [], fn _, acc -> [acc] end)
      assert {:error, %EncodeError{reason: :too_deep} = error} = JSON.encode(list)
      assert Exception.message(error) =~ "deeper than 1024"

      map = Enum.reduce(1..100_000, 1, fn _, acc -> %{"a" => acc} end)
      assert {:error, %EncodeError{reason: :too_deep}} = JSON.encode(map)
    end

    test "1024 levels are accepted both ways" do
      doc = String.duplicate("[", 1024) <> String.duplicate("]", 1024)
      assert JSON.encode!(JSON.decode!(doc)) == doc
    end
  end

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

  test "a 6 MB document decodes and re-encodes" do
    items =
      for i <- 1..20_000 do
        %{"id" => i, "name" => "item #{i} ünïcode 😀", "tags" => ["a", "b"], "price" => i / 7}
      end

    doc = JSON.encode!(%{"items" => items, "blob" => String.duplicate("x", 4_500_000)})
    assert byte_size(doc) > 6_000_000

    decoded = JSON.decode!(doc)
    assert length(decoded["items"]) == 20_000
    assert Enum.at(decoded["items"], 9_999) == Enum.at(items, 9_999)
    assert JSON.decode!(JSON.encode!(decoded)) == decoded
  end

  describe "encode errors name the offending term" do
    test "pid, tuple, reference, function, port" do
      ref = make_ref()
      fun = fn -> :ok end
      port = hd(Port.list())

      for {term, kind} <- [
            {self(), "pids"},
            {{1, 2}, "tuples"},
            {ref, "references"},
            {fun, "functions"},
            {port, "ports"}
          ] do
        assert {:error, %EncodeError{reason: :unsupported, term: ^term} = error} =
                 JSON.encode(%{"nested" => [1, term]})

        message = Exception.message(error)
        assert message =~ kind
        assert message =~ inspect(term, limit: 5)
      end
    end

    test "a binary that is not UTF-8" do
      assert {:error, %EncodeError{reason: :invalid_utf8, term: <<0xFF, 0xFE>>} = error} =
               JSON.encode(["ok", <<0xFF, 0xFE>>])

      assert Exception.message(error) =~ "<<255, 254>>"
      assert Exception.message(error) =~ "not valid UTF-8"
    end

    test "a map key that is not an atom, string or integer" do
      for key <- [{:a}, 1.5, self(), [1]] do
        assert {:error, %EncodeError{reason: :invalid_key, term: ^key} = error} =
                 JSON.encode(%{key => 1})

        assert Exception.message(error) =~ "map key #{inspect(key)}"
      end
    end

    test "an improper list" do
      assert {:error, %EncodeError{reason: :improper_list, term: :tail} = error} =
               JSON.encode([1, 2 | :tail])

      assert Exception.message(error) =~ "improper list ending in :tail"
    end

    test "encode! raises the EncodeError" do
      assert_raise EncodeError, ~r/tuples have no JSON form/, fn -> JSON.encode!({:a}) end
    end
  end

  describe "structs" do
    test "calendar types become ISO 8601 strings" do
      assert JSON.decode!(
               JSON.encode!(%{
                 "dt" => ~U[2024-01-02 03:04:05.123Z],
                 "d" => ~D[2024-02-29],
                 "n" => ~N[2024-01-02 03:04:05],
                 "t" => ~T[23:59:59.5]
               })
             ) == %{
               "dt" => "2024-01-02T03:04:05.123Z",
               "d" => "2024-02-29",
               "n" => "2024-01-02T03:04:05",
               "t" => "23:59:59.5"
             }
    end

    test "a struct with an Encoder implementation uses it" do
      assert JSON.encode!([%Money{amount: 12, currency: "EUR"}]) == ~s(["12 EUR"])
    end

    test "an Encoder result that holds structs is expanded in turn" do
      wrapped = %Wrapper{inner: %Money{amount: 1, currency: "USD"}}

      assert JSON.decode!(JSON.encode!(%{"w" => wrapped})) ==
               %{"w" => %{"wrapped" => "1 USD", "at" => "2024-02-29"}}
    end

    test "a struct without an implementation is encoded as its fields" do
      point = %Point{x: 1, y: -2.5, label: %Point{x: 0, y: 0, label: nil}}

      assert JSON.decode!(JSON.encode!(point)) == %{
               "x" => 1,
               "y" => -2.5,
               "label" => %{"x" => 0, "y" => 0, "label" => nil}
             }
    end

    test "a struct whose fields cannot be encoded names the field" do
      assert {:error, %EncodeError{term: {:tuple}}} = JSON.encode(%Point{x: {:tuple}})
    end

    test "an Encoder that raises raises from encode" do
      assert_raise RuntimeError, "the encoder exploded", fn -> JSON.encode(%Exploding{}) end
    end
  end
end
