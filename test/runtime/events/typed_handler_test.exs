defmodule LambdaRuntime.Events.TypedHandlerTest do
  # `use LambdaRuntime.Events` in a handler module: the runtime decodes the
  # event before calling the handler (through LambdaRuntime.Test.invoke,
  # which runs a handler as the runtime does).
  use ExUnit.Case, async: true
  import LambdaRuntime.Test

  alias LambdaRuntime.Samples

  defmodule Orders do
    use LambdaRuntime.Events

    def handle(%LambdaRuntime.Events.SQS{records: records}, _context),
      do: {:ok, %{"count" => length(records), "first" => hd(records).message_id}}

    def handle(%{} = other, _context), do: {:ok, %{"untyped" => Map.keys(other)}}
  end

  defmodule Uploads do
    use LambdaRuntime.Handler
    use LambdaRuntime.Events, only: [:s3]

    @impl true
    def handle_event(%LambdaRuntime.Events.S3{records: [record]}, _context, _state),
      do: {:ok, record.key}

    def handle_event(event, _context, _state),
      do: {:ok, %{"untyped" => Map.has_key?(event, "Records")}}
  end

  defmodule Plain do
    def handle(event, _context), do: {:ok, %{"is_map" => is_map(event) and not is_struct(event)}}
  end

  test "a function handler gets the struct of a known source, the raw map otherwise" do
    assert {:ok, %{"count" => 2, "first" => "059f36b4-87a3-44ab-83d2-661975830a7d"}} =
             invoke("#{inspect(Orders)}.handle", Samples.load!("sqs"))

    assert {:ok, %{"untyped" => ["name"]}} =
             invoke("#{inspect(Orders)}.handle", %{"name" => "Ada"})
  end

  test "a behaviour handler, limited to some sources" do
    assert {:ok, "invoices/2026/11/invoice 42.pdf"} = invoke(Uploads, Samples.load!("s3"))
    assert {:ok, %{"untyped" => true}} = invoke(Uploads, Samples.load!("sqs"))
  end

  test "an event that does not decode fails the invocation and names the field" do
    bad = %{"Records" => [%{"eventSource" => "aws:sqs", "messageId" => 7}]}

    error =
      assert_error(invoke("#{inspect(Orders)}.handle", bad), "LambdaRuntime.Events.DecodeError")

    assert error["errorMessage"] == "sqs event: Records[0].messageId: expected a string, got 7"
  end

  test "handlers that do not opt in get the raw map" do
    assert {:ok, %{"is_map" => true}} = invoke("#{inspect(Plain)}.handle", Samples.load!("sqs"))
  end
end
