defmodule LambdaRuntime.AWS.TLSTest do
  # HTTPS endpoints must present a certificate the OS trust store accepts.
  use ExUnit.Case, async: true

  @moduletag :capture_log

  alias LambdaRuntime.AWS.{Credentials, Endpoint, ServiceClient}
  alias LambdaRuntime.Tools.AWS.Lambda

  setup do
    {:ok, _} = Application.ensure_all_started(:ssl)

    %{server_config: server} =
      :public_key.pkix_test_data(%{
        server_chain: %{
          root: [key: {:namedCurve, :secp256r1}],
          peer: [key: {:namedCurve, :secp256r1}]
        },
        client_chain: %{
          root: [key: {:namedCurve, :secp256r1}],
          peer: [key: {:namedCurve, :secp256r1}]
        }
      })

    {:ok, listen} =
      :ssl.listen(0, [:binary, ip: {127, 0, 0, 1}, active: false, reuseaddr: true] ++ server)

    {:ok, {_, port}} = :ssl.sockname(listen)
    test = self()

    spawn_link(fn ->
      {:ok, socket} = :ssl.transport_accept(listen)
      send(test, {:handshake, :ssl.handshake(socket, 5_000)})
    end)

    %{port: port}
  end

  test "a server certificate from an unknown CA is refused before any request", %{port: port} do
    env = %{"AWS_ENDPOINT_URL_LAMBDA" => "https://127.0.0.1:#{port}", "AWS_REGION" => "us-east-1"}
    {:ok, endpoint} = Endpoint.resolve("lambda", env)
    creds = %Credentials{access_key_id: "AKID", secret_access_key: "tls-secret", source: "test"}
    client = %ServiceClient{endpoint: endpoint, credentials: creds, backoff_ms: []}

    assert {:error, error} = ServiceClient.call(client, Lambda.get_function("hello"))
    assert error.code == "TLSFailed"
    assert error.message =~ "TLS with 127.0.0.1:#{port} failed"
    assert error.hint =~ "certificate did not verify"
    assert_receive {:handshake, {:error, _}}, 10_000
  end
end
