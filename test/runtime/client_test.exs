defmodule LambdaRuntime.ClientTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Client

  defp base(api) do
    {:ok, client} = Client.new(api)
    Client.base_url(client)
  end

  test "Lambda's host:port and the emulators' URL forms" do
    assert base("127.0.0.1:9001") == "http://127.0.0.1:9001/2018-06-01"
    assert base("localhost:80") == "http://localhost:80/2018-06-01"
    assert base("http://127.0.0.1:9000/.rt") == "http://127.0.0.1:9000/.rt/2018-06-01"
    assert base("http://127.0.0.1:9000/.rt/") == "http://127.0.0.1:9000/.rt/2018-06-01"
    assert base("[::1]:9001") == "http://[::1]:9001/2018-06-01"
    assert base(" 127.0.0.1:9001\n") == "http://127.0.0.1:9001/2018-06-01"
  end

  test "bad values are errors that quote the value and name the problem" do
    for {api, problem} <- [
          {"", "empty"},
          {"127.0.0.1", "no valid host:port"},
          {"127.0.0.1:0", "no valid host:port"},
          {"127.0.0.1:65536", "no valid host:port"},
          {":9001", "no valid host:port"},
          {"h:1:2", "no valid host:port"},
          {"bad host:1", "no valid host:port"},
          {"https://h:1", "https"},
          {"ftp://h:1", "unknown scheme"},
          {"http://h:1/a b", "' ' in its path"}
        ] do
      assert {:error, message} = Client.new(api)
      assert message =~ problem, "#{inspect(api)}: #{message}"
      if api != "", do: assert(message =~ inspect(String.trim(api)))
    end
  end

  test "a refused connection is a transport error, not an exception" do
    port = LambdaRuntime.TestSupport.HTTPServer.free_port()
    {:ok, client} = Client.new("127.0.0.1:#{port}")
    assert {:error, {:refused, message}} = Client.next(client)
    assert is_binary(message)
  end
end

defmodule LambdaRuntime.ClientRespondTest do
  # respond_then_next/5 is one NIF call: a small binary is written ahead
  # from the calling scheduler, anything else posted whole from the dirty
  # IO thread the call then moves to; both must deliver the same request.
  use ExUnit.Case, async: true

  alias LambdaRuntime.{Client, Native, Shutdown}
  alias LambdaRuntime.TestSupport.FaultApi

  setup do
    api = FaultApi.start!()
    on_exit(fn -> FaultApi.stop(api) end)
    {:ok, client} = Client.new(FaultApi.runtime_api(api))
    %{api: api, client: client}
  end

  defp header(request, name), do: :proplists.get_value(name, request.headers, nil)

  defp respond_then_next(api, client, id, body) do
    FaultApi.event(api, "next-after-#{id}", ~s({"n":1}))
    answer = Client.respond_then_next(client, id, "inv-#{id}", body)
    [posted] = FaultApi.await(api, "/#{id}/response")
    {answer, posted}
  end

  for {kind, body} <- [
        small_binary: ~s({"ok":true}),
        iolist: [~s({"ok":), "true}"],
        binary_over_64_kib: ~s(") <> String.duplicate("x", 70_000) <> ~s(")
      ] do
    test "a #{kind} response is posted, then /next follows", %{api: api, client: client} do
      body = unquote(body)
      {answer, posted} = respond_then_next(api, client, "r-#{unquote(kind)}", body)
      assert {:next, {:ok, 200, %{request_id: "next-after-r-" <> _}, ~s({"n":1})}} = answer
      assert posted.body == IO.iodata_to_binary(body)
      assert header(posted, "content-type") == "application/json"
      assert header(posted, "lambda-runtime-invocation-id") == "inv-r-#{unquote(kind)}"
    end
  end

  test "a response Lambda refuses comes back as it came, with no /next made",
       %{api: api, client: client} do
    FaultApi.push_reply(api, :response, {410, ~s({"errorType":"InvalidRequestID"})})
    assert {:ok, 410, _} = Client.respond_then_next(client, "gone", nil, "{}")
    assert FaultApi.requests(api) |> Enum.map(& &1.path) |> Enum.filter(&(&1 =~ "/next")) == []
  end

  test "a body that is not iodata is an error and nothing goes out",
       %{api: api, client: client} do
    for body <- [:not_iodata, ["{", :x]] do
      assert {:error, {:other, "body is not iodata"}} =
               Client.respond_then_next(client, "r", nil, body)
    end

    assert FaultApi.requests(api) == []
  end
end

defmodule LambdaRuntime.ClientInFlightTest do
  # The in-flight count is the VM's: not run beside other tests.
  use ExUnit.Case, async: false

  alias LambdaRuntime.{Client, Native, Shutdown}
  alias LambdaRuntime.TestSupport.FaultApi

  setup do
    api = FaultApi.start!()
    on_exit(fn -> FaultApi.stop(api) end)
    {:ok, client} = Client.new(FaultApi.runtime_api(api))
    %{api: api, client: client}
  end

  test "an accepted response releases its in-flight mark before the /next; a refused one does not",
       %{api: api, client: client} do
    before = Native.in_flight_count()
    accepted = Shutdown.mark_in_flight()
    refused = Shutdown.mark_in_flight()
    assert Native.in_flight_count() == before + 2

    FaultApi.event(api, "after-accepted", "{}")
    assert {:next, {:ok, 200, _, _}} = Client.respond_then_next(client, "a", nil, "{}", accepted)
    assert Native.in_flight_count() == before + 1

    FaultApi.push_reply(api, :response, {410, "{}"})
    assert {:ok, 410, _} = Client.respond_then_next(client, "b", nil, "{}", refused)
    assert Native.in_flight_count() == before + 1

    # Released by its owner, a mark counts once, however often.
    for mark <- [accepted, refused, refused], do: assert(Shutdown.release_in_flight(mark) == :ok)
    assert Native.in_flight_count() == before
  end
end
