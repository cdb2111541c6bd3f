defmodule LambdaRuntime.Tools.Durable.Local.ConsoleTest do
  # What `mix lambda.durable` shows and answers, without a runner: the
  # history lines and the callback answers from the command line.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Durable.Local.Console

  defp started(name),
    do: %{
      "EventType" => "CallbackStarted",
      "Name" => name,
      "CallbackStartedDetails" => %{"CallbackId" => "cb-1"}
    }

  test "answers from --callback and --callback-failure, by the callback's name" do
    {:ok, answers} =
      Console.answers([~s(approval={"by":"ada"})], ["payment=Declined:card expired"], false)

    assert Console.answer(started("approval"), answers) == {:ok, ~s({"by":"ada"})}

    # wait_for_callback names its inner callback "NAME create callback id".
    assert Console.answer(started("approval create callback id"), answers) ==
             {:ok, ~s({"by":"ada"})}

    assert Console.answer(started("payment"), answers) ==
             {:error, %{"ErrorType" => "Declined", "ErrorMessage" => "card expired"}}

    # Not answered and not asked: left open.
    assert Console.answer(started("other"), answers) == nil
  end

  test "an answer without NAME= is refused, naming the flag" do
    assert Console.answers(["approval"], [], false) ==
             {:error, ~s(--callback takes NAME=VALUE, got: "approval")}

    assert {:error, "--callback-failure takes NAME=VALUE" <> _} =
             Console.answers([], ["=x"], false)
  end

  test "history lines: id, type, name and the details' summary" do
    line =
      Console.event_line(%{
        "EventId" => 4,
        "EventType" => "StepSucceeded",
        "Name" => "charge",
        "StepSucceededDetails" => %{"Result" => %{"Payload" => ~s({"ok":true})}}
      })

    assert line == ~s(    4  StepSucceeded           charge  -> {"ok":true})

    long = String.duplicate("x", 100)

    assert Console.event_line(%{
             "EventId" => 12,
             "EventType" => "StepFailed",
             "Name" => "x",
             "StepFailedDetails" => %{
               "Error" => %{"Payload" => %{"ErrorType" => "Boom", "ErrorMessage" => long}}
             }
           }) =~ "!! Boom: " <> long

    assert Console.event_line(%{
             "EventId" => 5,
             "EventType" => "WaitStarted",
             "Name" => "pause",
             "WaitStartedDetails" => %{"Duration" => 60}
           }) =~ "pause  60 s"
  end
end
