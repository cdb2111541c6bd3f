defmodule LambdaRuntime.Tools.Deploy.WaiterTest do
  # LastUpdateStatus polling, against a local server that plays Lambda's
  # answers in order (moto reports every update Successful at once).
  use ExUnit.Case, async: true

  alias LambdaRuntime.AWS.{Credentials, Endpoint, ServiceClient}
  alias LambdaRuntime.Tools.Deploy.{Connection, Waiter}
  alias LambdaRuntime.TestSupport.SignatureStub

  defp connection(answers) do
    {:ok, script} = Agent.start_link(fn -> answers end)

    answer = fn _req, :ok ->
      body = Agent.get_and_update(script, fn [next | rest] -> {next, rest} end)
      {200, nil, LambdaRuntime.JSON.encode!(body)}
    end

    stub = SignatureStub.start!("AKIDWAIT", "wait-secret", answer)
    env = %{"AWS_ENDPOINT_URL_LAMBDA" => stub.url, "AWS_REGION" => "us-east-1"}
    {:ok, endpoint} = Endpoint.resolve("lambda", env)

    creds = %Credentials{
      access_key_id: "AKIDWAIT",
      secret_access_key: "wait-secret",
      source: "test"
    }

    %Connection{
      client: %ServiceClient{endpoint: endpoint, credentials: creds, backoff_ms: []},
      endpoint: endpoint,
      poll_ms: 0,
      max_polls: 5
    }
  end

  test "polls through Pending and InProgress until Successful" do
    conn =
      connection([
        %{"State" => "Pending", "LastUpdateStatus" => "InProgress"},
        %{"State" => "Active", "LastUpdateStatus" => "InProgress"},
        %{"State" => "Active", "LastUpdateStatus" => "Successful", "CodeSize" => 42}
      ])

    assert {:ok, %{"CodeSize" => 42}} = Waiter.wait(conn, "hello")

    for _ <- 1..3,
        do:
          assert_received(
            {:stub_request, %{path: "/2015-03-31/functions/hello/configuration"}, :ok}
          )
  end

  test "a Failed update is an error carrying Lambda's reason" do
    conn =
      connection([
        %{"State" => "Active", "LastUpdateStatus" => "InProgress"},
        %{
          "State" => "Active",
          "LastUpdateStatus" => "Failed",
          "LastUpdateStatusReasonCode" => "InvalidImage",
          "LastUpdateStatusReason" => "The layer is not compatible with arm64"
        }
      ])

    assert {:error, error} = Waiter.wait(conn, "hello")
    assert error.code == "InvalidImage"

    assert Exception.message(error) =~
             "function hello: LastUpdateStatus is Failed: The layer is not compatible with arm64"
  end

  test "a Failed state is an error too, and waiting has a limit" do
    conn = connection([%{"State" => "Failed", "StateReason" => "Role is invalid"}])
    assert {:error, error} = Waiter.wait(conn, "hello")
    assert error.message =~ "State is Failed: Role is invalid"

    conn = connection(List.duplicate(%{"State" => "Pending"}, 5))
    assert {:error, %{code: "WaitTimeout"}} = Waiter.wait(conn, "hello")
  end
end
