defmodule LambdaRuntime.JSONEncodeTest do
  # What LambdaRuntime.JSON.encode refuses, and what it converts: keys of
  # two types with one JSON name, terms JSON has no form for, structs.
  use ExUnit.Case, async: true

  alias LambdaRuntime.JSON
  alias LambdaRuntime.JSON.EncodeError
  alias LambdaRuntime.TestSupport.{Exploding, Money, Point, Wrapper}

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
