defmodule LambdaRuntime.JSONTest do
  # LambdaRuntime.JSON on documents: values both ways, numbers, strings,
  # objects, malformed input, nesting, size. Encode's refusals and structs
  # are in json_encode_test.exs, the scheduler split in
  # json_schedulers_test.exs, the comparison with jiffy in json_peer_test.exs.
  use ExUnit.Case, async: true

  alias LambdaRuntime.JSON
  alias LambdaRuntime.JSON.{DecodeError, EncodeError}

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
end
