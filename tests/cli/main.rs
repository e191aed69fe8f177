mod apply;
mod crash;
mod sandbox_proc;
mod status;
