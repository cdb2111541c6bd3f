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
    port = LambdaRuntime.TestSupport.Emulator.free_port()
    {:ok, client} = Client.new("127.0.0.1:#{port}")
    assert {:error, {:refused, message}} = Client.next(client)
    assert is_binary(message)
  end
end
