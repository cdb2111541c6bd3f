defmodule LambdaRuntime.ErrorReportTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.ErrorReport

  defmodule CustomError do
    defexception [:message]
  end

  defmodule BadMessageError do
    defexception [:detail]
    @impl true
    def message(_), do: raise("message/1 itself fails")
  end

  defp caught(fun) do
    fun.()
  catch
    kind, reason -> ErrorReport.from_caught(kind, reason, __STACKTRACE__)
  end

  describe "types" do
    test "a raised exception keeps its module name and message" do
      report = caught(fn -> raise ArgumentError, "bad input" end)
      assert %ErrorReport{type: "ArgumentError", message: "bad input"} = report

      report = caught(fn -> raise CustomError, "custom" end)
      assert report.type == "LambdaRuntime.ErrorReportTest.CustomError"
      assert report.message == "custom"
    end

    test "an Erlang error is normalized to its Elixir exception" do
      report = caught(fn -> :erlang.error(:badarith) end)
      assert report.type == "ArithmeticError"
      assert report.message =~ "bad argument in arithmetic expression"

      report = caught(fn -> :erlang.error({:some, :reason}) end)
      assert report.type == "ErlangError"
      assert report.message =~ "{:some, :reason}"
    end

    test "throw and exit" do
      assert %ErrorReport{type: "UncaughtThrow", message: "uncaught throw: {:x, 1}"} =
               caught(fn -> throw({:x, 1}) end)

      assert %ErrorReport{type: "ProcessExit", message: "handler exited: :bye"} =
               caught(fn -> exit(:bye) end)
    end

    test "a process that went down" do
      assert ErrorReport.from_down(:killed) ==
               ErrorReport.new("ProcessExit", "handler process was killed")

      assert ErrorReport.from_down({:shutdown, 1}).message ==
               "handler process exited: {:shutdown, 1}"
    end

    test "{:error, reason} returns" do
      assert ErrorReport.from_error_return("plain text") ==
               ErrorReport.new("HandlerError", "plain text")

      assert ErrorReport.from_error_return(:timeout) ==
               ErrorReport.new("HandlerError", ":timeout")

      assert %ErrorReport{type: "KeyError", message: message} =
               ErrorReport.from_error_return(%KeyError{key: :k, term: %{}})

      assert message =~ "key :k not found"
    end

    test "an exception whose message/1 raises still gives a report" do
      report = ErrorReport.from_exception(%BadMessageError{detail: 1})
      assert report.type == "LambdaRuntime.ErrorReportTest.BadMessageError"
      assert report.message =~ "BadMessageError"
      assert report.message =~ "detail: 1"
    end
  end

  describe "header_type/1" do
    test "has the Category.Reason shape" do
      assert ErrorReport.header_type(ErrorReport.new("ArgumentError", "")) ==
               "Function.ArgumentError"

      assert ErrorReport.header_type(ErrorReport.new("MyApp.Invalid", "")) ==
               "Function.MyApp.Invalid"

      assert ErrorReport.header_type(ErrorReport.new("HandlerError", "")) ==
               "Function.HandlerError"

      for kept <- [
            "Runtime.InvalidResponse",
            "Sandbox.Timedout",
            "Function.ResponseSizeTooLarge"
          ] do
        assert ErrorReport.header_type(ErrorReport.new(kept, "")) == kept
      end

      for type <- ["ArgumentError", "UncaughtThrow", "Runtime.InitError", "X.Y.Z"] do
        assert ErrorReport.header_type(ErrorReport.new(type, "")) =~ ~r/^[A-Z][A-Za-z]*\.[\w.]+$/
      end
    end

    test "keeps only characters a header value may hold, whatever the type" do
      for {type, header} <- [
            {"Function.My.App Error\r\n", "Function.My.AppError"},
            {"My App:Error", "Function.MyAppError"},
            {"Runtime.Bad\nType", "Runtime.BadType"},
            {":my_mod", "Function.my_mod"},
            {"héllo", "Function.hllo"},
            {".x.", "Function.x"},
            {"Runtime.", "Function.Runtime"},
            {"", "Function.Unknown"},
            {" \r\n", "Function.Unknown"}
          ] do
        assert ErrorReport.header_type(%ErrorReport{type: type, message: ""}) == header,
               inspect(type)
      end
    end

    test "to_wire/1 is the named map the NIF takes on every path" do
      report = ErrorReport.new("My App.Error", "m", ["frame"])

      assert ErrorReport.to_wire(report) == %{
               header_type: "Function.MyApp.Error",
               error_type: "My App.Error",
               error_message: "m",
               stack_trace: ["frame"],
               xray_cause: ErrorReport.xray_cause(report)
             }
    end
  end

  describe "xray_cause/1" do
    test "is JSON with the exception, its frames and the files involved" do
      report = caught(fn -> raise ArgumentError, "bad" end)
      cause = LambdaRuntime.JSON.decode!(ErrorReport.xray_cause(report))

      assert cause["working_directory"] == File.cwd!()

      assert [%{"type" => "ArgumentError", "message" => "bad", "stack" => [top | _]}] =
               cause["exceptions"]

      assert top["path"] =~ "error_report_test.exs"
      assert is_integer(top["line"]) and top["line"] > 0
      assert top["path"] in cause["paths"]
    end

    test "is ASCII only (a header value), non-ASCII escaped the JSON way" do
      cause = ErrorReport.xray_cause(ErrorReport.new("E", "héllo 😀 \d\t"))
      assert cause =~ ~S(h\u00E9llo \uD83D\uDE00 \u007F\t)
      assert for(<<c <- cause>>, do: c in 0x20..0x7E) |> Enum.all?()
      assert [%{"message" => "héllo 😀 \d\t"}] = LambdaRuntime.JSON.decode!(cause)["exceptions"]
    end

    test "stays under 64 KiB however deep the stack" do
      frames = for i <- 1..5_000, do: {Deep, :"fun_#{i}", 1, [file: ~c"lib/deep.ex", line: i]}
      report = ErrorReport.from_exception(%RuntimeError{message: "deep"}, frames)
      assert length(report.stack_trace) == 5_000
      cause = ErrorReport.xray_cause(report)
      assert byte_size(cause) <= 64 * 1024
      assert [%{"stack" => [_ | _]}] = LambdaRuntime.JSON.decode!(cause)["exceptions"]
    end
  end

  describe "text is always valid UTF-8" do
    test "a message or type that is not UTF-8 is inspected, not lost" do
      report = ErrorReport.new("Bad", <<"caf", 0xE9>>, [<<0xFF>>])
      assert report.message == ~S(<<99, 97, 102, 233>>)
      assert report.stack_trace == ["<<255>>"]
      assert String.valid?(ErrorReport.xray_cause(report))
    end
  end

  describe "stack traces" do
    test "frames are formatted one line each, file and line included" do
      report = caught(fn -> raise "here" end)
      assert [first | _] = report.stack_trace
      assert Enum.all?(report.stack_trace, &is_binary/1)
      assert first =~ "error_report_test.exs:"
      assert first =~ "LambdaRuntime.ErrorReportTest"
      refute Enum.any?(report.stack_trace, &String.contains?(&1, "\n"))
    end

    test "the runtime's own Invoker frames are dropped" do
      stack = [
        {Handler, :handle, 2, [file: ~c"lib/handler.ex", line: 3]},
        {LambdaRuntime.Invoker, :call, 4, [file: ~c"lib/lambda_runtime/invoker.ex", line: 90]}
      ]

      assert ErrorReport.format_stacktrace(stack) == ["lib/handler.ex:3: Handler.handle/2"]
      assert ErrorReport.format_stacktrace(:not_a_list) == []
    end
  end
end
