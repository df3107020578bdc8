"""Arrow's memory pool while exports are read."""

from __future__ import annotations

import threading
import warnings

import pyarrow as pa
import pytest

from salesinsight.exceptions import DataQualityWarning
from salesinsight.export import read_export, read_stage_history
from salesinsight.io.memory import reading_pool

DEALS = (
    "Opportunity ID,Opportunity Name,Stage,Amount,Created Date,Close Date\n"
    "006A,A,Closed Won,100,03/07/2021,04/08/2021\n"
)
HISTORY = "Id,OpportunityId,CreatedDate,StageName,Amount,IsDeleted\n1,006A,2021-03-07,Prospecting,90,false\n"


class TestReadingPool:
    def test_the_pool_before_is_put_back(self):
        before = pa.default_memory_pool().backend_name
        with reading_pool():
            with reading_pool():
                inside = pa.default_memory_pool().backend_name
            assert pa.default_memory_pool().backend_name == inside
        assert pa.default_memory_pool().backend_name == before

    def test_put_back_after_an_error(self):
        before = pa.default_memory_pool().backend_name
        with pytest.raises(ValueError), reading_pool():
            raise ValueError("boom")
        assert pa.default_memory_pool().backend_name == before

    def test_readers_in_threads_share_one_switch(self):
        before = pa.default_memory_pool().backend_name
        inside, go = threading.Barrier(4), threading.Event()

        def reader():
            with reading_pool():
                inside.wait()
                go.wait()

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        inside.wait()
        if "jemalloc" in pa.supported_memory_backends():
            assert pa.default_memory_pool().backend_name == "jemalloc"
        go.set()
        for t in threads:
            t.join()
        assert pa.default_memory_pool().backend_name == before

    def test_buffers_outlive_the_block(self):
        with reading_pool():
            array = pa.array([f"deal {i}" for i in range(10_000)])
        assert array[9_999].as_py() == "deal 9999"

    def test_read_export_and_history_leave_the_pool_as_it_was(self, tmp_path):
        (tmp_path / "deals.csv").write_text(DEALS)
        (tmp_path / "history.csv").write_text(HISTORY)
        before = pa.default_memory_pool().backend_name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            export = read_export(tmp_path / "deals.csv")
            read_stage_history(tmp_path / "history.csv", export)
        assert pa.default_memory_pool().backend_name == before


def test_read_export_warnings_name_the_callers_line(tmp_path):
    (tmp_path / "deals.csv").write_text(DEALS)
    with pytest.warns(DataQualityWarning, match="day from month") as caught:
        read_export(tmp_path / "deals.csv")
    assert {w.filename for w in caught} == {__file__}
