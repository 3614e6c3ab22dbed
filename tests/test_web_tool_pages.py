"""The HTML of the web's single-image tools and Info, without a browser: which tools a result
offers (as the Discord buttons under it), and Info for an outpaint and a redraw."""
from __future__ import annotations

from dataclasses import replace

from bot.models import JobKind, JobTask
from bot.services.history import JobDetails
from bot.web import pages, tools
from tests.factories import make_job


def test_the_tools_are_offered_under_a_single_image_only_and_make_square_only_when_not_square():
    square = make_job(job_id=3, count=1, width=64, height=64)
    html = tools.single_image_tools(square, "t")
    for code in ("z2", "z15", "l", "r", "u", "d"):
        assert f'action="/jobs/3/outpaint/0/{code}"' in html
    assert 'href="/jobs/3/region/0"' in html and "/outpaint/0/sq" not in html
    assert "/outpaint/0/sq" in tools.single_image_tools(make_job(job_id=4, count=1, width=96, height=64), "t")
    assert tools.single_image_tools(make_job(job_id=5, count=4), "t") == ""


def test_a_single_image_has_vary_subtle_and_strong_and_a_grid_has_v1_to_vn():
    single = pages.result_grid(make_job(job_id=6, count=1), [], [False], "t")
    assert "/jobs/6/vary/0/subtle" in single and "/jobs/6/vary/0/strong" in single and ">V1<" not in single
    grid = pages.result_grid(make_job(job_id=7, count=2), [], [False, False], "t")
    assert ">V1<" in grid and ">V2<" in grid and "subtle" not in grid


def test_info_of_an_outpaint_and_of_a_painted_redraw_name_the_edit_and_the_lineage():
    parent = make_job(job_id=8, count=1)
    zoom = replace(make_job(job_id=9, count=1, task=JobTask.INPAINT, edit="zoom:2", strength=1.0),
                   kind=JobKind.OUTPAINT, parent_job_id=8, parent_image_index=0)
    html = pages.info_page(JobDetails(zoom, None, None, [parent]), None)
    assert "Outpaint: zoomed out 2×" in html and "zoomed out 2× from job #8 image 1" in html
    assert "(outpaint)" in pages.headline(zoom)
    from bot.renderer import painted_mask

    edit = painted_mask.encode([n < 64 for n in range(1024)])
    redraw = replace(zoom, id=10, kind=JobKind.REGION, params=replace(zoom.params, edit=edit))
    html = pages.info_page(JobDetails(redraw, None, None, [parent]), None)
    assert "vary region (inpainting the region)" in html and "region varied (painted, 6% of the image)" in html
    assert "(vary region)" in pages.headline(redraw)
