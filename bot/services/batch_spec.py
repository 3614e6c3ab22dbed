"""What the renderer is asked to do for a batch of compatible jobs: one RenderBatch, one ImageSpec per
image. Pure (no I/O): the dispatcher hands its jobs here when it starts a batch."""
from __future__ import annotations

from pathlib import Path

from bot.models import ImageSpec, Job, JobTask, LoraSpec, RenderBatch
from bot.models_catalog import read_loras
from bot.services.dispatch_contracts import DispatchSettings


def render_batch_for(batch: list[Job], batch_id: int, data_dir: Path, settings: DispatchSettings) -> RenderBatch:
    """The batch's shared parameters come from its first job: the scheduler only groups jobs whose
    `batch_key` (size, steps, guidance, task, strength, tile, edit...) is the same."""
    head = batch[0].params
    specs = []
    for job in batch:
        p = job.params
        init = str(data_dir / p.init_image) if p.init_image else None
        for index in range(p.count):
            seed = p.image_seed(index)
            specs.append(ImageSpec(
                job_id=job.id, index=index, prompt=p.prompt, negative_prompt=p.negative_prompt,
                safety_negative=p.safety_negative, seed=seed, init_image=init, lineage=_source(job),
                output_path=str(settings.images_dir / str(job.id) / f"{index}-{seed}.png"),
                # --chaos shapes text-to-image noise only (an image-to-image job starts from its image)
                chaos=p.chaos if p.task is JobTask.TXT2IMG else None, chaos_seed=p.seed,
            ))
    return RenderBatch(
        batch_id=batch_id, width=head.width, height=head.height, steps=head.steps,
        guidance=head.guidance, images=tuple(specs), strength=head.strength, model_label=head.model,
        task=head.task, upscale_factor=head.upscale_factor, edit=head.edit,
        upscaler=settings.upscaler_model if head.task is JobTask.UPSCALE else None,
        watermark=settings.watermark, tile=head.tile,
        preview_every=settings.preview_every, preview_taesd=settings.preview_taesd,
        model_source=dict(settings.models).get(head.model, ""), loras=_loras(head.loras, settings),
    )


def _loras(text: str, settings: DispatchSettings) -> tuple[LoraSpec, ...]:
    """The job's LoRAs as files (checked at admission; a file removed since fails the batch)."""
    folder = settings.lora_dir or Path(".")
    return tuple(LoraSpec(c.name, str(folder / f"{c.name}.safetensors"), c.weight) for c in read_loras(text))


def _source(job: Job) -> str:
    """An edit's source for its PNG ("job 12 image 1"); empty for every other job."""
    if job.params.edit is None or job.parent_job_id is None:
        return ""
    return f"job {job.parent_job_id} image {(job.parent_image_index or 0) + 1}"
