defmodule LambdaRuntime.StreamedResponseTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.StreamedResponse

  test "http/2: the JSON prelude, eight zero bytes, then the body, each its own element" do
    stream =
      StreamedResponse.http(Stream.map(["a", "b"], & &1),
        status: 404,
        headers: [{"x-one", "1"}, {"content-type", "text/html"}],
        cookies: ["c=1"]
      )

    assert stream.content_type == "application/vnd.awslambda.http-integration-response"

    assert Enum.to_list(stream.enumerable) == [
             ~s({"cookies":["c=1"],"headers":{"content-type":"text/html","x-one":"1"},) <>
               ~s("statusCode":404}),
             <<0::64>>,
             "a",
             "b"
           ]

    assert [~s({"cookies":[],"headers":{},"statusCode":200}), <<0::64>>] =
             Enum.to_list(StreamedResponse.http([]).enumerable)
  end

  test "from_response/1: streams and lazy enumerables stream; lists and maps do not" do
    assert {:ok, %StreamedResponse{content_type: "text/plain"}} =
             StreamedResponse.from_response(StreamedResponse.new([], content_type: "text/plain"))

    assert {:ok, %StreamedResponse{content_type: "application/octet-stream"}} =
             StreamedResponse.from_response(Stream.map([1], &to_string/1))

    assert {:ok, _} =
             StreamedResponse.from_response(Stream.resource(fn -> 0 end, &{:halt, &1}, & &1))

    assert StreamedResponse.from_response(["a"]) == :error
    assert StreamedResponse.from_response(%{"a" => 1}) == :error
    assert StreamedResponse.from_response("text") == :error
  end

  defmodule DeprecatedName do
    # Named at run time, so that no Elixir version's compiler sees the
    # calls: the deprecation warning is for users' code, not this test's.
    def old, do: Module.concat(LambdaRuntime, Stream)

    def new(_event, _context), do: {:ok, old().new(["a", "b"], content_type: "text/plain")}
    def http(_event, _context), do: {:ok, old().http(["body"], status: 201)}
    def literal(_event, _context), do: {:ok, %LambdaRuntime.Stream{enumerable: ["c", "d"]}}
  end

  describe "LambdaRuntime.Stream, the deprecated name" do
    test "delegates to StreamedResponse and is deprecated, function by function" do
      old = DeprecatedName.old()

      assert old.new(["x"], content_type: "text/plain") ==
               StreamedResponse.new(["x"], content_type: "text/plain")

      assert old.http(["x"]) |> Map.put(:enumerable, nil) ==
               StreamedResponse.http(["x"]) |> Map.put(:enumerable, nil)

      assert old.from_response(Stream.map([1], & &1)) |> elem(0) == :ok

      deprecated = for {{name, _arity}, _} <- old.__info__(:deprecated), uniq: true, do: name
      assert Enum.sort(deprecated) == [:from_response, :http, :new]
    end

    test "what a handler returns with it still streams, a hand-built struct too" do
      assert {:ok, "ab"} = LambdaRuntime.Test.invoke({DeprecatedName, :new}, %{})
      assert {:ok, body} = LambdaRuntime.Test.invoke({DeprecatedName, :http}, %{})
      assert body =~ ~s("statusCode":201) and String.ends_with?(body, <<0::64, "body">>)
      assert {:ok, "cd"} = LambdaRuntime.Test.invoke({DeprecatedName, :literal}, %{})
    end
  end
end
