defmodule LambdaRuntime.Advanced.StreamTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Stream, as: LStream

  test "http/2: the JSON prelude, eight zero bytes, then the body, each its own element" do
    stream =
      LStream.http(Stream.map(["a", "b"], & &1),
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
             Enum.to_list(LStream.http([]).enumerable)
  end

  test "from_response/1: streams and lazy enumerables stream; lists and maps do not" do
    assert {:ok, %LStream{content_type: "text/plain"}} =
             LStream.from_response(LStream.new([], content_type: "text/plain"))

    assert {:ok, %LStream{content_type: "application/octet-stream"}} =
             LStream.from_response(Stream.map([1], &to_string/1))

    assert {:ok, _} = LStream.from_response(Stream.resource(fn -> 0 end, &{:halt, &1}, & &1))
    assert LStream.from_response(["a"]) == :error
    assert LStream.from_response(%{"a" => 1}) == :error
    assert LStream.from_response("text") == :error
  end
end
